"""Mutant: deals every shard anew round-robin (balanced, deterministic, moves too many)."""

from __future__ import annotations

from collections.abc import Iterable


def rebalance(shards: list[int], gids: Iterable[int]) -> list[int]:
    members = sorted(set(gids))
    if not members:
        return [0] * len(shards)
    return [members[s % len(members)] for s in range(len(shards))]
