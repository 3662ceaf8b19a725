from __future__ import annotations

from distlab.systems.percolator.codec import physical_time  # noqa: F401
from distlab.systems.percolator.latches import Latches
from distlab.systems.percolator.mvcc import Lock, MvccTxn, Write, WriteKind  # noqa: F401
from distlab.systems.percolator.storage import CF_LOCK, CF_WRITE  # noqa: F401


class Server:
    def __init__(self, storage) -> None:
        self.storage = storage
        self.latches = Latches()

    def kv_commit(self, req: dict) -> dict:
        """Turn this transaction's locks on req["keys"] into write records at commit_version."""
        start, commit = req["start_version"], req["commit_version"]
        keys = list(dict.fromkeys(req["keys"]))
        with self.latches.hold(keys):
            txn = MvccTxn(self.storage.reader(), start)
            for key in keys:
                lock = txn.get_lock(key)
                if lock is not None:
                    txn.put_write(key, commit, Write(start, lock.kind))
                    txn.delete_lock(key)
                    continue
                write, _ = txn.current_write(key)
                if write is not None and write.kind == WriteKind.ROLLBACK:
                    return {"error": {"abort": f"transaction {start} was rolled back"}}
                if write is not None:
                    continue  # committed already: a resent commit
                if lock is not None:
                    return {"error": {"retryable": f"key locked by transaction {lock.ts}"}}
            self.storage.write(txn.writes)
        return {"error": None}
