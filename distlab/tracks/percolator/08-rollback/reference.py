from __future__ import annotations

from distlab.systems.percolator.codec import physical_time  # noqa: F401
from distlab.systems.percolator.latches import Latches
from distlab.systems.percolator.mvcc import Lock, MvccTxn, Write, WriteKind  # noqa: F401
from distlab.systems.percolator.storage import CF_LOCK, CF_WRITE  # noqa: F401


class Server:
    def __init__(self, storage) -> None:
        self.storage = storage
        self.latches = Latches()

    def kv_batch_rollback(self, req: dict) -> dict:
        """Roll the transaction at start_version back on req["keys"]."""
        start = req["start_version"]
        keys = list(dict.fromkeys(req["keys"]))
        with self.latches.hold(keys):
            txn = MvccTxn(self.storage.reader(), start)
            for key in keys:
                write, commit_ts = txn.current_write(key)
                if write is not None:
                    if write.kind == WriteKind.ROLLBACK:
                        continue
                    return {"error": {"abort": f"transaction {start} committed {key!r} at {commit_ts}"}}
                lock = txn.get_lock(key)
                if lock is not None and lock.ts == start:
                    txn.delete_lock(key)
                    txn.delete_value(key)
                txn.put_write(key, start, Write(start, WriteKind.ROLLBACK))
            self.storage.write(txn.writes)
        return {"error": None}
