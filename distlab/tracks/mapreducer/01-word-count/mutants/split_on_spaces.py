"""Mutant: words split on white space only.

Word count as a MapReduce application: map emits (word, "1") per word, reduce counts."""

from __future__ import annotations


def words(text: str) -> list[str]:
    """Maximal runs of Unicode letters (str.isalpha: any alphabet, accents included;
    digits, '_', apostrophes and punctuation end a word)."""
    return text.split()


def map_fn(filename: str, contents: str) -> list[tuple[str, str]]:
    """One pair per word occurrence; the filename does not matter to word count."""
    return [(word, "1") for word in words(contents)]


def reduce_fn(key: str, values: list[str]) -> str:
    """All the "1"s of one word: their number is the word's count."""
    return str(len(values))
