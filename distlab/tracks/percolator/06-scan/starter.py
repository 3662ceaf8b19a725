from __future__ import annotations

from distlab.systems.percolator.codec import physical_time  # noqa: F401
from distlab.systems.percolator.latches import Latches
from distlab.systems.percolator.mvcc import Lock, MvccTxn, Write, WriteKind  # noqa: F401
from distlab.systems.percolator.storage import CF_LOCK, CF_WRITE  # noqa: F401


class Server:
    def __init__(self, storage) -> None:
        self.storage = storage
        self.latches = Latches()

    def kv_scan(self, req: dict) -> dict:
        """Up to limit visible pairs from start_key, locked keys reported, at one snapshot."""
        return {"pairs": []}  # TODO
