"""Per-key latches: the short-lived mutual exclusion that makes one request atomic.

Not to be confused with Percolator locks (which live in the lock CF and span a whole
transaction): a latch is held only while a request reads, decides and writes its batch, so two
requests touching the same key (say a commit and a rollback of it) cannot interleave their
read-check-write steps. All of a request's keys are taken at once, or none, so there is no
deadlock between requests that latch overlapping sets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

__all__ = ["Latches"]


class Latches:
    """A set of latched keys guarded by one condition variable."""

    def __init__(self) -> None:
        self._held: set[bytes] = set()
        self._cond = threading.Condition()
        # Test hook (as TinyKV's Latches.Validation): called with (latched keys, written user keys).
        self.validation: Callable[[frozenset[bytes], list[bytes]], None] | None = None

    def try_acquire(self, keys: Iterable[bytes]) -> bool:
        """Take every key's latch now, or none of them."""
        wanted = {bytes(k) for k in keys}
        with self._cond:
            if self._held & wanted:
                return False
            self._held |= wanted
            return True

    def acquire(self, keys: Iterable[bytes], timeout: float | None = None) -> bool:
        """Block until every key is free, then take them all together."""
        wanted = {bytes(k) for k in keys}
        with self._cond:
            ok = self._cond.wait_for(lambda: not (self._held & wanted), timeout)
            if ok:
                self._held |= wanted
            return ok

    def release(self, keys: Iterable[bytes]) -> None:
        """Free keys taken together by one ``acquire``; wakes every waiter to re-check."""
        with self._cond:
            self._held -= {bytes(k) for k in keys}
            self._cond.notify_all()

    def held(self) -> frozenset[bytes]:
        """Keys latched right now."""
        with self._cond:
            return frozenset(self._held)

    @contextmanager
    def hold(self, keys: Iterable[bytes]) -> Iterator[frozenset[bytes]]:
        """``with latches.hold(keys):`` acquire on entry, release on exit (even on error)."""
        wanted = frozenset(bytes(k) for k in keys)
        self.acquire(wanted)
        try:
            yield wanted
        finally:
            self.release(wanted)
