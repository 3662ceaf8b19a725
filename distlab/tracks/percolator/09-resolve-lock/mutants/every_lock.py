from __future__ import annotations

from distlab.systems.percolator.codec import physical_time  # noqa: F401
from distlab.systems.percolator.latches import Latches
from distlab.systems.percolator.mvcc import Lock, MvccTxn, Write, WriteKind  # noqa: F401
from distlab.systems.percolator.storage import CF_LOCK, CF_WRITE  # noqa: F401


class Server:
    def __init__(self, storage) -> None:
        self.storage = storage
        self.latches = Latches()

    def kv_resolve_lock(self, req: dict) -> dict:
        """Commit (commit_version > 0) or roll back (0) the locks left by start_version."""
        start, commit = req["start_version"], req.get("commit_version", 0)
        reader = self.storage.reader()
        if req.get("keys"):
            candidates = [(k, reader.get_cf(CF_LOCK, k)) for k in dict.fromkeys(req["keys"])]
        else:
            candidates = list(reader.iter_cf(CF_LOCK))
        keys = [k for k, raw in candidates if raw is not None]
        if not keys:
            return {"error": None}
        with self.latches.hold(keys):
            txn = MvccTxn(self.storage.reader(), start)
            for key in keys:
                err = self._commit_key(txn, key, commit) if commit else self._rollback_key(txn, key)
                if err is not None:
                    return {"error": err}
            self.storage.write(txn.writes)
        return {"error": None}

    def _commit_key(self, txn: MvccTxn, key: bytes, commit: int) -> dict | None:
        lock = txn.get_lock(key)
        if lock is not None:
            txn.put_write(key, commit, Write(txn.start_ts, lock.kind))
            txn.delete_lock(key)
            return None
        write, _ = txn.current_write(key)
        if write is not None and write.kind == WriteKind.ROLLBACK:
            return {"abort": f"transaction {txn.start_ts} was rolled back"}
        return None

    def _rollback_key(self, txn: MvccTxn, key: bytes) -> dict | None:
        write, _ = txn.current_write(key)
        if write is not None:
            return None if write.kind == WriteKind.ROLLBACK else {"abort": "already committed"}
        lock = txn.get_lock(key)
        if lock is not None:
            txn.delete_lock(key)
            txn.delete_value(key)
        txn.put_write(key, txn.start_ts, Write(txn.start_ts, WriteKind.ROLLBACK))
        return None
