"""Mutant: hash() is salted per process for strings."""

from __future__ import annotations

from typing import Any

NSHARDS = 10


def key2shard(key: Any) -> int:
    return hash(key) % NSHARDS
