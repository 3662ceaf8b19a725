"""Mutant: the shards of departed groups all go to the smallest remaining gid."""

from __future__ import annotations

from collections.abc import Iterable


def rebalance(shards: list[int], gids: Iterable[int]) -> list[int]:
    members = sorted(set(gids))
    if not members:
        return [0] * len(shards)
    if all(g in (0, *members) for g in shards) and any(g != 0 for g in shards):
        return list(shards)
    return [g if g in members else members[0] for g in shards]
