"""Mutant: the combiner is added to map, but reduce still counts values.

Word count with a combiner: each map counts its own file's words first, so it emits
one pair per distinct word instead of one per occurrence; reduce adds the partial counts."""

from __future__ import annotations

from collections import Counter


def words(text: str) -> list[str]:
    """Maximal runs of Unicode letters."""
    found: list[str] = []
    run: list[str] = []
    for ch in text:
        if ch.isalpha():
            run.append(ch)
        elif run:
            found.append("".join(run))
            run = []
    if run:
        found.append("".join(run))
    return found


def map_fn(filename: str, contents: str) -> list[tuple[str, str]]:
    """(word, count in this file) for each distinct word: the combiner runs inside the map."""
    return [(word, str(n)) for word, n in Counter(words(contents)).items()]


def reduce_fn(key: str, values: list[str]) -> str:
    """The partial counts of one word, one per map that saw it: their sum."""
    return str(len(values))
