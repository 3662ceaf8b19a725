"""Key to shard: which of the 10 shards a key belongs to."""

from __future__ import annotations

from typing import Any

NSHARDS = 10


def key2shard(key: Any) -> int:
    """The same answer in every process: arithmetic on the key itself, never hash()
    (Python salts string hashes per process)."""
    if isinstance(key, int):  # bool is an int: True -> 1
        return int(key) % NSHARDS
    data = str(key).encode()
    return data[0] % NSHARDS if data else 0
