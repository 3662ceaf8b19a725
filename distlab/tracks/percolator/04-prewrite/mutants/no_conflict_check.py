from __future__ import annotations

from distlab.systems.percolator.codec import physical_time  # noqa: F401
from distlab.systems.percolator.latches import Latches
from distlab.systems.percolator.mvcc import Lock, MvccTxn, Write, WriteKind  # noqa: F401
from distlab.systems.percolator.storage import CF_LOCK, CF_WRITE  # noqa: F401


class Server:
    def __init__(self, storage) -> None:
        self.storage = storage
        self.latches = Latches()

    KINDS = {"put": WriteKind.PUT, "del": WriteKind.DELETE, "lock": WriteKind.LOCK}

    def kv_prewrite(self, req: dict) -> dict:
        """Lock and stage every mutation, or write nothing and return the errors."""
        start, primary, ttl = req["start_version"], req["primary_lock"], req.get("lock_ttl", 0)
        keys = [m["key"] for m in req["mutations"]]
        errors = []
        with self.latches.hold(keys):
            txn = MvccTxn(self.storage.reader(), start)
            for m in req["mutations"]:
                key = m["key"]
                lock = txn.get_lock(key)
                if lock is not None and lock.ts != start:
                    errors.append({"locked": lock.info(key)})
                    continue
                kind = self.KINDS[m.get("op", "put")]
                if kind == WriteKind.PUT:
                    txn.put_value(key, m.get("value", b""))
                elif kind == WriteKind.DELETE:
                    txn.delete_value(key)
                txn.put_lock(key, Lock(primary, start, ttl, kind))
            if not errors:
                self.storage.write(txn.writes)
        return {"errors": errors}
