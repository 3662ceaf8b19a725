"""Rebalancing: a balanced assignment of the shards that keeps the most shards in place."""

from __future__ import annotations

from collections.abc import Iterable


def rebalance(shards: list[int], gids: Iterable[int]) -> list[int]:
    """shards[s] is the gid holding shard s now (0: nobody); `gids` the groups of the new
    configuration. TODO: return the new assignment: every shard on one of `gids` (all on 0
    when there are none), group sizes within one of each other, and as few shards as
    possible changing owner. This deals them round-robin: balanced, but it moves far too
    many."""
    members = sorted(set(gids))
    if not members:
        return [0] * len(shards)
    return [members[s % len(members)] for s in range(len(shards))]
