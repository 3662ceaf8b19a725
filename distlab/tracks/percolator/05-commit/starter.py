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
        txn = MvccTxn(self.storage.reader(), req["start_version"])
        for key in req["keys"]:
            lock = txn.get_lock(key)
            if lock is None:
                return {"error": {"abort": "no lock"}}  # TODO: resent commits, rollbacks
            txn.put_write(key, req["commit_version"], Write(req["start_version"], lock.kind))
            txn.delete_lock(key)
        self.storage.write(txn.writes)
        return {"error": None}
