"""Partitioning: which reduce task gets a key. FNV-1a over the key's UTF-8 bytes, as
6.824's ihash: stable in every process, and every bit of the key stirs the result."""

from __future__ import annotations

FNV_OFFSET = 0x811C9DC5
FNV_PRIME = 0x01000193


def ihash(key: str) -> int:
    """32-bit FNV-1a of the key, masked to a non-negative 31-bit int."""
    h = FNV_OFFSET
    for byte in key.encode("utf-8"):
        h = ((h ^ byte) * FNV_PRIME) & 0xFFFFFFFF
    return h & 0x7FFFFFFF


def partition(key: str, n_reduce: int) -> int:
    """The reduce task (0 .. n_reduce-1) that receives every pair with this key."""
    return ihash(key) % n_reduce
