"""Reduce parallelism probe: ten keys a..j; each reduce outputs how many workers were
reducing while it ran."""

from __future__ import annotations

from distlab.systems.mapreduce.apps import nparallel


def map_fn(filename: str, contents: str) -> list[tuple[str, str]]:
    return [(key, "1") for key in "abcdefghij"]


def reduce_fn(key: str, values: list[str]) -> str:
    return str(nparallel("reduce"))
