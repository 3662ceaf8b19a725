"""Word count as a MapReduce application. The grader calls map_fn on each input file and
reduce_fn once per distinct key with all that key's values."""

from __future__ import annotations


def map_fn(filename: str, contents: str) -> list[tuple[str, str]]:
    """TODO: one (word, "1") pair per word of `contents`; a word is a maximal run of
    Unicode letters."""
    return []


def reduce_fn(key: str, values: list[str]) -> str:
    """TODO: the count of `key`, as a string, from all the values map_fn emitted for it."""
    return "0"
