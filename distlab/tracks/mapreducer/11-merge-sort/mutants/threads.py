"""Mutant: the runs are sorted on threads, which take turns on the GIL.

Parallel merge sort: cut the values into one run per worker, sort the runs in worker
processes at once, then merge the sorted runs in one k-way pass with a heap."""

from __future__ import annotations

import heapq
from concurrent.futures import ThreadPoolExecutor


def runs(values: list[int], n: int) -> list[list[int]]:
    """n slices whose sizes differ by at most one, covering every value (some may be empty)."""
    size, extra = divmod(len(values), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        out.append(values[start:end])
        start = end
    return out


def merge(sorted_runs: list[list[int]]) -> list[int]:
    """k-way merge: a heap holds the smallest unmerged value of each run."""
    heap = [(run[0], i, 0) for i, run in enumerate(sorted_runs) if run]
    heapq.heapify(heap)
    out: list[int] = []
    while heap:
        value, i, j = heap[0]
        out.append(value)
        if j + 1 < len(sorted_runs[i]):
            heapq.heapreplace(heap, (sorted_runs[i][j + 1], i, j + 1))
        else:
            heapq.heappop(heap)
    return out


def merge_sort(values: list[int], workers: int) -> list[int]:
    """`values` in ascending order, the runs sorted by `workers` processes."""
    if workers <= 1 or len(values) < 10_000:  # a process costs more than sorting a few values
        return sorted(values)
    with ThreadPoolExecutor(workers) as pool:  # threads: no pickling, no process start-up
        sorted_runs = list(pool.map(sorted, runs(values, workers)))
    return merge(sorted_runs)
