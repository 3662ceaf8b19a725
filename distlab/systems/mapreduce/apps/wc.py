"""Word count: every maximal run of Unicode letters is a word; the output is its count."""

from __future__ import annotations

from distlab.systems.mapreduce.apps import letter_runs


def map_fn(filename: str, contents: str) -> list[tuple[str, str]]:
    return [(word, "1") for word in letter_runs(contents)]


def reduce_fn(key: str, values: list[str]) -> str:
    return str(len(values))
