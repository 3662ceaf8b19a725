"""Mutant: sorts groups by size only; Python's stable sort keeps equal groups in the order
the gids arrived, so ties depend on that order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


def rebalance(shards: list[int], gids: Iterable[int]) -> list[int]:
    members = list(dict.fromkeys(gids))
    if not members:
        return [0] * len(shards)
    held = Counter(g for g in shards if g in members)
    by_size = sorted(members, key=lambda g: -held[g])
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
