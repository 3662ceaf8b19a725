"""The course's example, round 2: every `URL COUNT` line goes to the one reduce, which
counts them all and keeps the ten most frequent."""

from __future__ import annotations

from distlab.systems.gocourse.datagen import top_n
from distlab.systems.gocourse.mrapps import TOP_KEY, count_lines, encode_top


def map_fn(filename: str, contents: str) -> list[tuple[str, str]]:
    return [(TOP_KEY, line) for line in contents.split("\n") if line.strip()]


def reduce_fn(key: str, values: list[str]) -> str:
    return encode_top(top_n(count_lines("\n".join(values))))
