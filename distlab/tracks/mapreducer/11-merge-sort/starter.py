"""Parallel merge sort: cut the values into one run per worker, sort the runs in worker
processes at once, then merge the sorted runs."""

from __future__ import annotations


def merge(sorted_runs: list[list[int]]) -> list[int]:
    """TODO: merge sorted lists into one sorted list (a heap of each run's next value)."""
    return [v for run in sorted_runs for v in run]


def merge_sort(values: list[int], workers: int) -> list[int]:
    """TODO: `values` in ascending order: split into `workers` runs, sort each in a
    process (concurrent.futures.ProcessPoolExecutor), merge them."""
    return merge([values])
