"""Mutant: a joining group takes the lowest-numbered shards, whoever holds them, instead of
taking from the groups holding the most."""

from __future__ import annotations

from collections.abc import Iterable


def rebalance(shards: list[int], gids: Iterable[int]) -> list[int]:
    members = sorted(set(gids))
    if not members:
        return [0] * len(shards)
    out = [g if g in members else members[0] for g in shards]
    share = len(shards) // len(members)
    fresh = [g for g in members if g not in shards]
    s = 0
    for g in fresh:
        for _ in range(share):
            while s < len(out) and out[s] in fresh:
                s += 1
            if s < len(out):
                out[s] = g
    return out
