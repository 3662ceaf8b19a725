from __future__ import annotations

from distlab.systems.percolator.codec import physical_time  # noqa: F401
from distlab.systems.percolator.latches import Latches
from distlab.systems.percolator.mvcc import Lock, MvccTxn, Write, WriteKind  # noqa: F401
from distlab.systems.percolator.storage import CF_LOCK, CF_WRITE  # noqa: F401


class Server:
    def __init__(self, storage) -> None:
        self.storage = storage
        self.latches = Latches()

    def kv_get(self, req: dict) -> dict:
        """The value at req["version"], or the lock that makes it unknowable yet."""
        key, version = req["key"], req["version"]
        txn = MvccTxn(self.storage.reader(), version)
        lock = txn.get_lock(key)
        if lock is not None and lock.ts <= version:
            return {"value": None, "not_found": False, "error": {"locked": lock.info(key)}}
        value = txn.get_value(key)
        return {"value": value, "not_found": value is None, "error": None}
