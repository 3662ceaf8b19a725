"""Mutant: one pair per occurrence; the hot URL's reducer gets them all.

URL top-k as a MapReduce job: map counts its own file's URLs (a combiner, so a hot
URL costs one pair per map task, not one per occurrence), reduce adds the counts, and
top() picks the k largest from the reduce outputs with a bounded heap."""

from __future__ import annotations

import heapq


def map_fn(filename: str, contents: str) -> list[tuple[str, str]]:
    """(url, count in this file) per distinct URL; one URL per line."""
    return [(line.strip(), "1") for line in contents.splitlines() if line.strip()]


def reduce_fn(key: str, values: list[str]) -> str:
    """A URL's total over all files."""
    return str(sum(int(v) for v in values))


def top(results: dict[str, str], k: int) -> list[tuple[str, int]]:
    """The k most frequent URLs, most frequent first, equal counts in URL order. Counts
    arrive as strings (reduce outputs): compare them as numbers."""
    return heapq.nsmallest(k, ((url, int(n)) for url, n in results.items()), key=lambda p: (-p[1], p[0]))
