"""Storage-side Percolator mutants: each breaks exactly one guarantee of :class:`Server`.

They exist to prove the tests have teeth (issue 14 item 7): every mutant here is caught by a
named test in tests/test_percolator_4b.py / _4c.py, and tests/test_percolator_mutants.py checks
that the mutant fails that test while the real server passes it. Each is a mistake people make
when writing these handlers for the first time.
"""

from __future__ import annotations

from distlab.systems.percolator.mvcc import Lock, MvccTxn
from distlab.systems.percolator.server import Server

__all__ = [
    "MUTANTS",
    "IgnoreTtlServer",
    "LaxCommitTsServer",
    "ReadsIgnoreLocksServer",
    "ScanSkipsLockedServer",
    "UnrecordedRollbackServer",
]


class ReadsIgnoreLocksServer(Server):
    """Reads return the last committed value even past a lock that may commit before them.

    Breaks snapshot reads: a transaction that prewrote before the reader's start and commits
    with a commit ts below it is invisible to one read and visible to the next.
    """

    def _read_blocked_by(self, lock: Lock | None, version: int) -> bool:
        return False


class UnrecordedRollbackServer(Server):
    """Rollback removes the lock but leaves no rollback record.

    Breaks atomicity: a prewrite delayed in the network arrives after the rollback, succeeds,
    and the "rolled back" transaction can then commit some of its keys.
    """

    def _record_rollback(self, txn: MvccTxn, key: bytes) -> None:
        return None


class LaxCommitTsServer(Server):
    """Commit accepts a commit_version that is not after start_version.

    Breaks the snapshot order: the write appears at or before the snapshot it was based on.
    """

    def _commit_ts_ok(self, start_ts: int, commit_ts: int) -> bool:
        return True


class IgnoreTtlServer(Server):
    """Check-txn-status rolls back any lock it finds, alive or not.

    Breaks liveness of honest transactions: every reader that meets a lock aborts its owner.
    """

    def _lock_expired(self, lock: Lock, current_ts: int) -> bool:
        return True


class ScanSkipsLockedServer(Server):
    """A scan silently leaves out keys it finds locked instead of reporting them.

    Breaks snapshot scans: a key whose writer commits below the scan's version goes missing.
    """

    def _scan_locked(self, key: bytes, lock: Lock) -> dict | None:
        return None


MUTANTS: dict[str, type[Server]] = {
    "reads-ignore-locks": ReadsIgnoreLocksServer,
    "rollback-not-recorded": UnrecordedRollbackServer,
    "commit-ts-not-after-start": LaxCommitTsServer,
    "ttl-not-honoured": IgnoreTtlServer,
    "scan-skips-locked": ScanSkipsLockedServer,
}
