"""Round 1: count each URL. The map counts its own file first (a combiner inside the map),
so a URL seen a million times in a file costs one intermediate pair, not a million."""

from __future__ import annotations

from collections import Counter


def map_fn(filename: str, contents: str) -> list[tuple[str, str]]:
    return [(url, str(count)) for url, count in Counter(contents.split()).items()]


def reduce_fn(key: str, values: list[str]) -> str:
    return str(sum(map(int, values)))
