"""Rebalancing: a balanced assignment of the shards that keeps the most shards in place."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


def rebalance(shards: list[int], gids: Iterable[int]) -> list[int]:
    """shards[s] is the gid holding shard s now (0: nobody); `gids` the groups of the new
    configuration. Each group's quota is base or base + 1 shards; the + 1s go to the
    groups holding the most now (ties: smaller gid), so they keep the most; each group
    keeps its lowest shards up to its quota; the rest go, lowest shard first, to the
    groups under quota, smallest gid first. Only sorted(set(gids)) is used, so the
    answer does not depend on the order the gids come in."""
    members = sorted(set(gids))
    if not members:
        return [0] * len(shards)
    held = Counter(g for g in shards if g in members)
    by_size = sorted(members, key=lambda g: (-held[g], g))
    base, extra = divmod(len(shards), len(members))
    quota = {g: base + (1 if i < extra else 0) for i, g in enumerate(by_size)}
    out = [0] * len(shards)
    kept: Counter[int] = Counter()
    free = []
    for s, g in enumerate(shards):
        if g in quota and kept[g] < quota[g]:
            out[s] = g
            kept[g] += 1
        else:
            free.append(s)
    for g in members:
        while kept[g] < quota[g]:
            out[free.pop(0)] = g
            kept[g] += 1
    return out
