from __future__ import annotations

from distlab.systems.percolator.codec import physical_time  # noqa: F401
from distlab.systems.percolator.latches import Latches
from distlab.systems.percolator.mvcc import Lock, MvccTxn, Write, WriteKind  # noqa: F401
from distlab.systems.percolator.storage import CF_LOCK, CF_WRITE  # noqa: F401


class Server:
    def __init__(self, storage) -> None:
        self.storage = storage
        self.latches = Latches()

    def kv_prewrite(self, req: dict) -> dict:
        """Lock and stage every mutation, or write nothing and return the errors."""
        txn = MvccTxn(self.storage.reader(), req["start_version"])
        for m in req["mutations"]:
            txn.put_value(m["key"], m.get("value", b""))  # TODO: conflicts, locks, kinds
            txn.put_lock(m["key"], Lock(req["primary_lock"], req["start_version"], req["lock_ttl"], WriteKind.PUT))
        self.storage.write(txn.writes)
        return {"errors": []}
