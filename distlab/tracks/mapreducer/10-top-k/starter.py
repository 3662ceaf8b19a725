"""URL top-k as a MapReduce job: map and reduce count URLs (one per line in the input),
top() picks the k most frequent from the reduce outputs."""

from __future__ import annotations


def map_fn(filename: str, contents: str) -> list[tuple[str, str]]:
    """TODO: (url, count in this file) for each distinct URL (one URL per line)."""
    return [(line, "1") for line in contents.splitlines() if line]


def reduce_fn(key: str, values: list[str]) -> str:
    """TODO: the URL's total count, as a string."""
    return str(len(values))


def top(results: dict[str, str], k: int) -> list[tuple[str, int]]:
    """TODO: the k most frequent (url, count), most frequent first, ties in URL order."""
    return []
