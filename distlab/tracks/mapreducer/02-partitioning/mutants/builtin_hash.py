"""Mutant: Python's hash(), salted per process."""

from __future__ import annotations


def partition(key: str, n_reduce: int) -> int:
    """The reduce task for a key: Python's own hash, which looks fine in one process."""
    return hash(key) % n_reduce
