from __future__ import annotations

from distlab.systems.percolator.codec import decode_key, encode_bytes, encode_key
from distlab.systems.percolator.latches import Latches
from distlab.systems.percolator.mvcc import Lock, MvccTxn, Write, WriteKind  # noqa: F401
from distlab.systems.percolator.storage import CF_LOCK, CF_WRITE  # noqa: F401


class Server:
    def __init__(self, storage) -> None:
        self.storage = storage
        self.latches = Latches()

    def kv_scan(self, req: dict) -> dict:
        """Up to limit visible pairs from start_key, locked keys reported, at one snapshot."""
        start, limit, version = req.get("start_key", b""), req["limit"], req["version"]
        end = req.get("end_key") or None
        txn = MvccTxn(self.storage.reader(), version)
        pairs: list[dict] = []
        if limit <= 0:
            return {"pairs": pairs}
        for key in self._keys(txn.reader, start):
            if end is not None and key >= end:
                break
            lock = txn.get_lock(key)
            if lock is not None and lock.ts <= version:
                pairs.append({"key": key, "value": None, "error": {"locked": lock.info(key)}})
            else:
                value = txn.get_value(key)
                if value is None:
                    continue
                pairs.append({"key": key, "value": value, "error": None})
            if len(pairs) >= limit:
                break
        return {"pairs": pairs}

    def _keys(self, reader, start: bytes):
        """Every user key >= start with a lock or a write record, ascending, once each."""

        def write_key(seek: bytes) -> bytes | None:
            for enc, _ in reader.iter_cf(CF_WRITE, seek):
                return decode_key(enc)[0]
            return None

        locks = (k for k, _ in reader.iter_cf(CF_LOCK, start))
        lk, wk = next(locks, None), write_key(encode_bytes(start))
        while lk is not None or wk is not None:
            key = min(k for k in (lk, wk) if k is not None)
            yield key
            if lk == key:
                lk = next(locks, None)
            if wk == key:
                wk = write_key(encode_key(key, 0) + b"\x00")
