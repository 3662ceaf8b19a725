"""Mutant: the key's first character picks the partition."""

from __future__ import annotations


def partition(key: str, n_reduce: int) -> int:
    """Keys sorted by first letter, as a bucket sort would: empty key to partition 0."""
    return ord(key[0]) % n_reduce if key else 0
