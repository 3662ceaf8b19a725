"""Word count with a combiner: make each map emit one pair per distinct word of its file
(with the count) and make reduce add the partial counts up."""

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
    """TODO: (word, count in this file) for each distinct word."""
    return [(word, "1") for word in words(contents)]


def reduce_fn(key: str, values: list[str]) -> str:
    """TODO: the word's total from its partial counts."""
    return str(len(values))
