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
        txn = MvccTxn(self.storage.reader(), req["start_version"])
        for key in req["keys"]:
            txn.delete_lock(key)  # TODO: whose lock? what stops a late prewrite?
        self.storage.write(txn.writes)
        return {"error": None}
