"""The course's example, round 1: one pair per input line, counted by the reduce."""

from __future__ import annotations


def map_fn(filename: str, contents: str) -> list[tuple[str, str]]:
    return [(line, "") for line in (raw.strip() for raw in contents.split("\n")) if line]


def reduce_fn(key: str, values: list[str]) -> str:
    return str(len(values))
