"""Mutant: the two-cursor merge stops when one list runs out, dropping the other's tail.

Parallel merge sort: cut the values into one run per worker, sort the runs in worker
processes at once, then merge the sorted runs in one k-way pass with a heap."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor


def runs(values: list[int], n: int) -> list[list[int]]:
    """n slices whose sizes differ by at most one, covering every value (some may be empty)."""
    size, extra = divmod(len(values), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        out.append(values[start:end])
        start = end
    return out


def merge2(a: list[int], b: list[int]) -> list[int]:
    """Two-way merge with two cursors."""
    out: list[int] = []
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i] <= b[j]:
            out.append(a[i])
            i += 1
        else:
            out.append(b[j])
            j += 1
    return out  # the rest of the longer list is forgotten


def merge(sorted_runs: list[list[int]]) -> list[int]:
    """Merge the runs pairwise, left to right."""
    out: list[int] = []
    for run in sorted_runs:
        out = merge2(out, run) if out else run
    return out


def merge_sort(values: list[int], workers: int) -> list[int]:
    """`values` in ascending order, the runs sorted by `workers` processes."""
    if workers <= 1 or len(values) < 10_000:  # a process costs more than sorting a few values
        return sorted(values)
    with ProcessPoolExecutor(workers) as pool:
        sorted_runs = list(pool.map(sorted, runs(values, workers)))
    return merge(sorted_runs)
