"""Grades a parallel merge sort, `merge_sort(values, workers)` (Talent Plan's Go course
homework, int64 values): its answer must equal sorted() on seeded inputs, edge cases
included; a difference is named by its first position or by the values lost or gained.
On 200,003 values, at least two worker processes must be seen running (Linux's /proc)."""

from __future__ import annotations

import importlib.util
import os
import random
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _kit() -> Any:
    spec = importlib.util.spec_from_file_location("_mapreducer_kit", Path(__file__).resolve().parent.parent / "kit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kit = _kit()
Wrong = kit.Wrong
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _check(sort: Callable[..., Any], values: list[int], workers: int, what: str) -> None:
    call = f"merge_sort({what}, workers={workers})"
    got = kit.call(call, sort, list(values), workers)
    try:
        got = list(got)
    except TypeError:
        raise Wrong(f"{call} returned {type(got).__name__}; expected a list of the values in order") from None
    want = sorted(values)
    if got == want:
        return
    if len(got) != len(want) or Counter(got) != Counter(want):
        lost, gained = Counter(want) - Counter(got), Counter(got) - Counter(want)
        parts = [f"{call} returned {len(got):,} values for {len(want):,}"]
        if lost:
            parts.append(f"{sum(lost.values()):,} lost (e.g. {min(lost)})")
        if gained:
            parts.append(f"{sum(gained.values()):,} not in the input (e.g. {min(gained)})")
        raise Wrong(", ".join(parts) + ": every value must come out exactly as often as it went in")
    i = next(i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
    raise Wrong(f"{call} has {got[i]} at position {i:,} where {want[i]} belongs: the result is not in order")


def tiny(sort: Callable[..., Any], rng: random.Random) -> None:
    for values in ([], [7], [2, 1], [3, 1, 2], [5, 5, 5]):
        for workers in (1, 2, 4):
            _check(sort, values, workers, repr(values))


def duplicates_and_negatives(sort: Callable[..., Any], rng: random.Random) -> None:
    values = [rng.randint(-5, 5) for _ in range(10_001)]
    _check(sort, values, 4, "10,001 values from -5 to 5")


def int64_extremes(sort: Callable[..., Any], rng: random.Random) -> None:
    values = [rng.randint(INT64_MIN, INT64_MAX) for _ in range(997)] + [INT64_MIN, INT64_MAX, 0, -1]
    rng.shuffle(values)
    _check(sort, values, 3, "1,001 int64 values with both extremes")


def presorted(sort: Callable[..., Any], rng: random.Random) -> None:
    values = sorted(rng.randint(INT64_MIN, INT64_MAX) for _ in range(5_003))
    _check(sort, values, 4, "5,003 values already in order")
    _check(sort, values[::-1], 4, "5,003 values in reverse order")


def _children() -> set[int]:
    """Every process whose parent is this one now (from /proc)."""
    me = os.getpid()
    out = set()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                out.add(int(entry.name))
    return out


def _watch_children(stop: threading.Event, seen: set[int], before: set[int]) -> None:
    """Until `stop`: note every child of this process not in `before` (a grader running
    inside a bigger program, a test suite, may have children of its own)."""
    while not stop.is_set():
        seen.update(_children() - before)
        stop.wait(0.002)


def many(sort: Callable[..., Any], rng: random.Random) -> None:
    values = [rng.randint(INT64_MIN, INT64_MAX) for _ in range(200_003)]
    if not os.path.isdir("/proc/self"):  # no /proc to watch processes by: the answer only
        _check(sort, values, 4, "200,003 seeded int64 values")
        return
    stop, seen = threading.Event(), set()
    watcher = threading.Thread(target=_watch_children, args=(stop, seen, _children()), daemon=True)
    watcher.start()
    try:
        _check(sort, values, 4, "200,003 seeded int64 values")
    finally:
        stop.set()
        watcher.join()
    if len(seen) < 2:
        raise Wrong(f"merge_sort(200,003 seeded int64 values, workers=4) ran {len(seen)} worker process(es): "
                    "sort the runs in 4 processes at once (concurrent.futures.ProcessPoolExecutor); threads "
                    "take turns on Python's GIL, so they sort no faster than one")


SCENARIOS = {"tiny inputs": tiny, "duplicates and negatives": duplicates_and_negatives,
             "int64 extremes": int64_extremes, "already sorted, reversed": presorted,
             "200,003 values on 4 workers": many}


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    if not callable(target):
        return f"{target!r} is not a function: the grader calls merge_sort(values, workers)"
    try:
        SCENARIOS[name](target, random.Random(seed))
    except Wrong as exc:
        return str(exc)
    return None
