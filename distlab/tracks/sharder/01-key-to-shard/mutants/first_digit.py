"""Mutant: 6.824's first-byte rule applied to an integer's decimal text."""

from __future__ import annotations

from typing import Any

NSHARDS = 10


def key2shard(key: Any) -> int:
    data = str(key).encode()
    return data[0] % NSHARDS if data else 0
