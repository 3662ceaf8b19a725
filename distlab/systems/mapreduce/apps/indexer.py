"""Inverted index: each word, the number of files it appears in, and those files."""

from __future__ import annotations

from distlab.systems.mapreduce.apps import letter_runs


def map_fn(filename: str, contents: str) -> list[tuple[str, str]]:
    return [(word, filename) for word in sorted(set(letter_runs(contents)))]


def reduce_fn(key: str, values: list[str]) -> str:
    return f"{len(values)} {','.join(sorted(values))}"
