"""Parallel merge sort of int64 values (the course sorts 16M of them, `1 << 24`).

The values live in shared memory as C int64s (an `array('q')` outside), so worker
processes read and write them without pickling 128 MB back and forth. Two parallel steps:

1. sort: the array is cut into one run per worker, and each worker sorts its run in place;
2. merge: splitters taken at regular intervals from the sorted runs (sorting by regular
   sampling) cut the value range into one slice per worker; every worker finds its slice's
   bounds in each run by binary search, merges those pieces and writes them at their final
   offset in the output, so no step after the split is serial.

Inside a worker, sorting and merging use CPython's list sort, itself a merge sort: fed
the concatenation of k sorted pieces it finds the k runs and merges them (galloping) in C,
which is far faster than a k-way merge written in Python (heapq.merge).

    python -m distlab.systems.gocourse.mergesort [--n 16777216] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from array import array
from bisect import bisect_left
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import shared_memory

COURSE_N = 16 << 20
"""The course's benchmark size: 16,777,216 values."""


def random_int64(n: int, seed: int = 1) -> array:
    """n non-negative int64 values (as Go's rand.Int63), from a seed, without a Python loop."""
    raw = bytearray(random.Random(seed).randbytes(n * 8))
    high = 7 if sys.byteorder == "little" else 0
    raw[high::8] = raw[high::8].translate(bytes(b & 0x7F for b in range(256)))
    values = array("q")
    values.frombytes(bytes(raw))
    return values


def sequential_sort(values: array) -> array:
    """The single-process baseline (the course races sort.Slice): one list sort."""
    return array("q", sorted(values))


def _attach(name: str) -> tuple[shared_memory.SharedMemory, memoryview]:
    shm = shared_memory.SharedMemory(name=name)
    return shm, shm.buf.cast("q")


def _sort_run(args: tuple[str, int, int]) -> list[int]:
    """Sort values[lo:hi] in place; return regularly spaced samples of the sorted run."""
    name, lo, hi = args
    shm, view = _attach(name)
    try:
        run = view[lo:hi].tolist()
        run.sort()
        view[lo:hi] = array("q", run)
        step = max(1, len(run) // 64)
        return run[step - 1::step]
    finally:
        view.release()
        shm.close()


def _merge_slice(args: tuple[str, str, list[tuple[int, int]], int | None, int | None, int]) -> int:
    """Merge the values v with low <= v < high from every sorted run into the output at
    offset `out_at`; return how many were written."""
    src_name, dst_name, runs, low, high, out_at = args
    src, view = _attach(src_name)
    dst, out = _attach(dst_name)
    try:
        pieces: list[int] = []
        for lo, hi in runs:
            run = view[lo:hi]
            start = lo if low is None else lo + bisect_left(run, low)
            end = hi if high is None else lo + bisect_left(run, high)
            pieces.extend(view[start:end].tolist())
            run.release()
        pieces.sort()  # finds the sorted pieces as runs and merges them
        out[out_at:out_at + len(pieces)] = array("q", pieces)
        return len(pieces)
    finally:
        view.release()
        out.release()
        src.close()
        dst.close()


def _count_below(view: memoryview, runs: list[tuple[int, int]], bound: int | None) -> int:
    if bound is None:
        return sum(hi - lo for lo, hi in runs)
    total = 0
    for lo, hi in runs:
        run = view[lo:hi]
        total += bisect_left(run, bound)
        run.release()
    return total


def parallel_sort(values: array, workers: int | None = None,
                  pool: ProcessPoolExecutor | None = None) -> array:
    """A sorted copy of `values`, sorted by `workers` processes (a pool of them is made
    unless one is given)."""
    n = len(values)
    workers = workers or os.cpu_count() or 1
    if n < 2 or workers == 1:
        return sequential_sort(values)
    src = shared_memory.SharedMemory(create=True, size=n * 8)
    dst = shared_memory.SharedMemory(create=True, size=n * 8)
    own = pool is None
    pool = pool or ProcessPoolExecutor(workers)
    view = src.buf.cast("q")
    out = dst.buf.cast("q")
    try:
        view[:] = values
        cuts = [n * i // workers for i in range(workers + 1)]
        runs = [(cuts[i], cuts[i + 1]) for i in range(workers) if cuts[i] < cuts[i + 1]]
        samples = sorted(s for part in pool.map(_sort_run, [(src.name, lo, hi) for lo, hi in runs])
                         for s in part)
        splitters = sorted({samples[len(samples) * i // workers] for i in range(1, workers)})
        bounds: list[int | None] = [None, *splitters, None]
        offsets = [_count_below(view, runs, b) if b is not None else 0 for b in bounds[:-1]]
        jobs = [(src.name, dst.name, runs, bounds[i], bounds[i + 1], offsets[i])
                for i in range(len(bounds) - 1)]
        written = sum(pool.map(_merge_slice, jobs))
        assert written == n, f"merged {written} of {n} values"
        result = array("q")
        result.frombytes(out.tobytes())
        return result
    finally:
        view.release()
        out.release()
        if own:
            pool.shutdown()
        for shm in (src, dst):
            shm.close()
            shm.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m distlab.systems.gocourse.mergesort",
                                     description="Sort the course's 16M int64 in parallel, once.")
    parser.add_argument("--n", type=int, default=COURSE_N)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    values = random_int64(args.n, args.seed)
    start = time.perf_counter()
    got = parallel_sort(values, args.workers)
    cost = time.perf_counter() - start
    ok = got.tolist() == sorted(values)
    print(f"{args.n} int64 on {args.workers} workers: {cost:.2f} s, {'sorted' if ok else 'WRONG'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
