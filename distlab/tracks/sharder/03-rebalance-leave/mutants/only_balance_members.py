"""Mutant: balances the groups that remain but forgets the shards of those that left (they
stay on their old gid)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


def rebalance(shards: list[int], gids: Iterable[int]) -> list[int]:
    members = sorted(set(gids))
    if not members:
        return [0] * len(shards)
    out = [members[0] if g == 0 else g for g in shards]
    while True:
        counts = Counter(g for g in out if g in members)
        big = max(members, key=lambda g: (counts[g], -g))
        small = min(members, key=lambda g: (counts[g], g))
        if counts[big] <= counts[small] + 1:
            return out
        out[out.index(big)] = small
