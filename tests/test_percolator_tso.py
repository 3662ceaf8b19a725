"""The timestamp oracle: strictly increasing through clock steps back, counter overflow and restarts."""

from __future__ import annotations

import random

import pytest

from distlab.systems.percolator.tso import (
    LOGICAL_LIMIT,
    MemoryCeiling,
    Oracle,
    compose,
    logical,
    physical,
)


def test_layout_physical_shifted_18_bits() -> None:
    ts = compose(1_700_000_000_123, 5)
    assert ts == (1_700_000_000_123 << 18) | 5
    assert physical(ts) == 1_700_000_000_123 and logical(ts) == 5
    with pytest.raises(ValueError):
        compose(1, LOGICAL_LIMIT)


def test_same_millisecond_counts_logically() -> None:
    o = Oracle(MemoryCeiling())
    a, b = o.next(1000), o.next(1000)
    assert (physical(a), logical(a)) == (1000, 0)
    assert (physical(b), logical(b)) == (1000, 1)


def test_clock_going_back_never_moves_timestamps_back() -> None:
    o = Oracle(MemoryCeiling())
    a = o.next(5000)
    b = o.next(4000)  # NTP stepped the clock back a second
    assert b > a and physical(b) == 5000


def test_logical_overflow_borrows_next_millisecond() -> None:
    o = Oracle(MemoryCeiling())
    ts = o.batch(1000, LOGICAL_LIMIT + 1)
    assert ts == sorted(set(ts))
    assert physical(ts[-1]) == 1001 and logical(ts[-1]) == 0


def test_restart_never_goes_back_even_if_clock_did() -> None:
    store = MemoryCeiling()
    first = Oracle(store)
    issued = [first.next(10_000 + i) for i in range(100)]
    restarted = Oracle(store)  # a new process on the same durable ceiling, clock now behind
    after = restarted.next(9_000)
    assert after > max(issued)


def test_restart_without_ceiling_would_go_back() -> None:
    """Why the ceiling is persisted: a forgetful oracle repeats the past."""
    first = Oracle(MemoryCeiling())
    issued = first.next(10_000)
    forgetful = Oracle(MemoryCeiling())
    assert forgetful.next(9_000) < issued


def test_ceiling_saved_once_per_window() -> None:
    store = MemoryCeiling()
    o = Oracle(store, window_ms=3_000)
    for ms in range(1_000, 7_000):
        o.next(ms)
    assert store.saves == 2  # at 1000 (ceiling 4000) and at 4000 (ceiling 7000)
    assert store.value is not None and store.value > 6_999


def test_random_clock_and_restarts_brute_force() -> None:
    rng = random.Random(7)
    store = MemoryCeiling()
    o = Oracle(store, window_ms=50)
    clock, last = 0, -1
    for _ in range(5_000):
        clock = max(0, clock + rng.randint(-20, 30))
        if rng.random() < 0.02:
            o = Oracle(store, window_ms=50)
        ts = o.next(clock)
        assert ts > last
        last = ts
