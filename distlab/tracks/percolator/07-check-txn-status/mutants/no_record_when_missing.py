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
        primary, lock_ts, now = req["primary_key"], req["lock_ts"], req["current_ts"]
        with self.latches.hold([primary]):
            txn = MvccTxn(self.storage.reader(), lock_ts)
            lock = txn.get_lock(primary)
            if lock is not None and lock.ts == lock_ts:
                if physical_time(lock.ts) + lock.ttl >= physical_time(now):
                    return {"lock_ttl": lock.ttl, "commit_version": 0, "action": "no_action"}
                self._roll_back(txn, primary)
                return {"lock_ttl": 0, "commit_version": 0, "action": "ttl_expire_rollback"}
            write, commit_ts = txn.current_write(primary)
            if write is not None:
                committed = 0 if write.kind == WriteKind.ROLLBACK else commit_ts
                return {"lock_ttl": 0, "commit_version": committed, "action": "no_action"}
            return {"lock_ttl": 0, "commit_version": 0, "action": "lock_not_exist_rollback"}

    def _roll_back(self, txn: MvccTxn, key: bytes) -> None:
        """Drop our lock and value (if there) and leave a rollback record at start_ts."""
        lock = txn.get_lock(key)
        if lock is not None and lock.ts == txn.start_ts:
            txn.delete_lock(key)
            txn.delete_value(key)
        txn.put_write(key, txn.start_ts, Write(txn.start_ts, WriteKind.ROLLBACK))
        self.storage.write(txn.writes)
