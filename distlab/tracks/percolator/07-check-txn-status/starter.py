from __future__ import annotations

from distlab.systems.percolator.codec import physical_time  # noqa: F401
from distlab.systems.percolator.latches import Latches
from distlab.systems.percolator.mvcc import Lock, MvccTxn, Write, WriteKind  # noqa: F401
from distlab.systems.percolator.storage import CF_LOCK, CF_WRITE  # noqa: F401


class Server:
    def __init__(self, storage) -> None:
        self.storage = storage
        self.latches = Latches()

    def kv_check_txn_status(self, req: dict) -> dict:
        """The fate of the transaction at lock_ts, decided on its primary key."""
        return {"lock_ttl": 0, "commit_version": 0, "action": "no_action"}  # TODO
