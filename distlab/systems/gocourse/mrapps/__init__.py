"""URL top-10 as 6.824-style mrapps for `distlab mr`: each module has
`map_fn(filename, contents) -> [(key, value)]` and `reduce_fn(key, values) -> str`.

Two rounds, as the course's: `urlcount` counts each URL (round 1, R reduce tasks), then
`urltop10` reads round 1's `mr-out-*` files (`URL COUNT` lines) and keeps the ten most
frequent (round 2, one reduce task). `example_count` and `example_top10` are the course's
example in the same shape: no combining, every line shipped to reduce as it is."""

from __future__ import annotations

import json

from distlab.systems.gocourse.datagen import top_n

TOP_KEY = "top10"
"""Round 2's only key: its one reduce task sees every map's candidates."""


def encode_top(pairs: list[tuple[str, int]]) -> str:
    return json.dumps([[url, count] for url, count in pairs], separators=(",", ":"))


def decode_top(text: str) -> list[tuple[str, int]]:
    return [(str(url), int(count)) for url, count in json.loads(text)]


def count_lines(contents: str) -> dict[str, int]:
    """`URL COUNT` lines (a round-1 output file) as a dict."""
    counts: dict[str, int] = {}
    for line in contents.splitlines():
        url, _, count = line.rpartition(" ")
        if url:
            counts[url] = int(count)
    return counts


def top_of_lines(contents: str) -> list[tuple[str, int]]:
    return top_n(count_lines(contents))
