"""Round 2: each map keeps the ten most frequent URLs of one round-1 output file, and the
one reduce keeps the ten most frequent of those. Local top-10s suffice because round 1
partitioned by URL: a URL's whole count is in exactly one file."""

from __future__ import annotations

from distlab.systems.gocourse.datagen import top_n
from distlab.systems.gocourse.mrapps import TOP_KEY, decode_top, encode_top, top_of_lines


def map_fn(filename: str, contents: str) -> list[tuple[str, str]]:
    return [(TOP_KEY, encode_top(top_of_lines(contents)))]


def reduce_fn(key: str, values: list[str]) -> str:
    merged: dict[str, int] = {}
    for value in values:
        merged.update(decode_top(value))
    return encode_top(top_n(merged))
