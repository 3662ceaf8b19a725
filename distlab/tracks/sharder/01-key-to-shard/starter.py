"""Key to shard: which of the 10 shards a key belongs to."""

from __future__ import annotations

from typing import Any

NSHARDS = 10


def key2shard(key: Any) -> int:
    """TODO: an integer key k -> k mod NSHARDS; a string -> its first byte (UTF-8) mod
    NSHARDS, or 0 when it is empty."""
    return 0
