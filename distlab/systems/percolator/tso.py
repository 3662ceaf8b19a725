"""The timestamp oracle: `physical << 18 | logical`, strictly increasing, never back.

Percolator orders everything by timestamps from one oracle: a transaction reads
the snapshot at its start_ts and becomes visible at its commit_ts, so two
timestamps handed out in real-time order must compare the same way, or a
transaction could commit "in the past" of a snapshot that has already been
read. PD (TiKV's oracle) composes a timestamp from wall-clock milliseconds and
an 18-bit counter, so one millisecond holds 262,144 timestamps and a timestamp
still says roughly when it was taken (locks' TTLs are judged by `ts >> 18`).

Two things can make a naive oracle go back: the wall clock stepping backwards,
and a restart (the counter is in memory). Against the first, the physical part
never decreases; a full millisecond of logical values borrows the next one.
Against the second, PD persists a *ceiling* ahead of the physical time it
hands out (3 s ahead) and, after a restart, starts above the saved ceiling:
every timestamp issued before the crash was below it, whatever the clock now
says. Saving once per window instead of per timestamp keeps the oracle fast.

Sans-I/O: the caller passes the physical time and a `CeilingStore`; the oracle
neither reads a clock nor touches a disk by itself.
"""

from __future__ import annotations

from typing import Protocol

LOGICAL_BITS = 18
LOGICAL_LIMIT = 1 << LOGICAL_BITS
SAVE_WINDOW_MS = 3_000


def compose(physical_ms: int, logical: int) -> int:
    """The timestamp for a physical millisecond and a logical counter."""
    if not 0 <= logical < LOGICAL_LIMIT:
        raise ValueError(f"logical part {logical} outside [0, {LOGICAL_LIMIT})")
    return (physical_ms << LOGICAL_BITS) | logical


def physical(ts: int) -> int:
    """The wall-clock milliseconds a timestamp was taken at (as TTL checks read it)."""
    return ts >> LOGICAL_BITS


def logical(ts: int) -> int:
    return ts & (LOGICAL_LIMIT - 1)


class CeilingStore(Protocol):
    """Where the oracle keeps its ceiling; `save` must be durable when it returns."""

    def load(self) -> int | None: ...

    def save(self, ceiling_ms: int) -> None: ...


class MemoryCeiling:
    """A CeilingStore that survives an Oracle object (a "restart") but not the process."""

    def __init__(self, value: int | None = None) -> None:
        self.value = value
        self.saves = 0

    def load(self) -> int | None:
        return self.value

    def save(self, ceiling_ms: int) -> None:
        self.value = ceiling_ms
        self.saves += 1


class Oracle:
    """Hands out strictly increasing timestamps given the caller's physical time.

    Invariant: every timestamp issued has a physical part below the stored
    ceiling, because the ceiling is saved *before* the first timestamp that
    would reach it. A new Oracle on the same store therefore starts at the
    ceiling and can never repeat or undercut an earlier one.
    """

    def __init__(self, store: CeilingStore, window_ms: int = SAVE_WINDOW_MS) -> None:
        if window_ms < 1:
            raise ValueError("window_ms must be at least 1")
        self.store = store
        self.window_ms = window_ms
        saved = store.load()
        self.ceiling = saved or 0
        # Resume at the ceiling: nothing handed out before the restart reached it.
        self.physical = self.ceiling
        self.logical = -1
        self.last = -1

    def next(self, now_ms: int) -> int:
        """One timestamp, greater than every earlier one from this store."""
        return self.batch(now_ms, 1)[0]

    def batch(self, now_ms: int, count: int) -> list[int]:
        """`count` consecutive timestamps (PD hands out batches to amortise the round trip)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        out = []
        for _ in range(count):
            phys, log = max(now_ms, self.physical), self.logical + 1
            if phys > self.physical:
                log = 0
            elif log >= LOGICAL_LIMIT:
                # A millisecond's counter is spent: borrow the next millisecond.
                phys, log = self.physical + 1, 0
            if phys >= self.ceiling:
                self.ceiling = phys + self.window_ms
                self.store.save(self.ceiling)
            self.physical, self.logical = phys, log
            ts = compose(phys, log)
            assert ts > self.last, "timestamp oracle went back"
            self.last = ts
            out.append(ts)
        return out
