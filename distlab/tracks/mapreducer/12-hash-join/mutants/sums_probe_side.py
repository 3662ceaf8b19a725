"""Mutant: sums relation 1's col0 (the probing side) instead of relation 0's.

A hash join for the course's query

    SELECT SUM(r0.col0) FROM r0, r1 WHERE r0.c[a] = r1.c[x] AND r0.c[b] = r1.c[y] ...

Build a hash table on relation 0 (key -> the sum of col0 over its rows: the only thing
the query needs), then probe it with each row of relation 1; every matching pair adds
that row group's sum. The answer is a uint64, so it wraps modulo 2^64."""

from __future__ import annotations

from collections import defaultdict

MASK64 = (1 << 64) - 1


def rows(path: str) -> list[list[str]]:
    """A table file: one row per line, columns separated by commas."""
    with open(path) as f:
        return [line.split(",") for line in f.read().splitlines() if line]


def join(f0: str, f1: str, offsets0: list[int], offsets1: list[int]) -> int:
    """SUM(col0 of relation 0) over the pairs of rows whose key columns are equal."""
    sums: defaultdict[tuple[str, ...], int] = defaultdict(int)
    for row in rows(f0):
        sums[tuple(row[i] for i in offsets0)] += int(row[0])
    total = 0
    for row in rows(f1):
        if tuple(row[i] for i in offsets1) in sums:
            total += int(row[0])  # the probing row's col0
    return total & MASK64
