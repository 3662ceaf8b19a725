"""Mutant: reduce sums, but map still emits a pair per occurrence.

Word count with a combiner: each map counts its own file's words first, so it emits
one pair per distinct word instead of one per occurrence; reduce adds the partial counts."""

from __future__ import annotations


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
    return [(word, "1") for word in words(contents)]


def reduce_fn(key: str, values: list[str]) -> str:
    """The partial counts of one word, one per map that saw it: their sum."""
    return str(sum(int(v) for v in values))
