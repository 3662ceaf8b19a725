"""Mutant: Move rebalances afterwards, undoing the operator's choice.

The shard controller's state machine: a list of configurations, one more per Join,
Leave or Move, each a snapshot that later commands never change."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable
from typing import Any

NSHARDS = 10


def rebalance(shards: list[int], gids: Iterable[int]) -> list[int]:
    """Balanced, fewest moves, ties by gid (the previous tasks)."""
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


class Controller:
    """configs[n] is configuration n: {"num": n, "shards": [gid] * NSHARDS,
    "groups": {gid: [server, ...]}}. Configuration 0 has no groups, every shard on 0."""

    def __init__(self) -> None:
        self.configs: list[dict[str, Any]] = [{"num": 0, "shards": [0] * NSHARDS, "groups": {}}]

    def _next(self, groups: dict[int, list[str]], shards: list[int]) -> None:
        self.configs.append({"num": len(self.configs), "shards": shards, "groups": groups})

    def join(self, groups: dict[int, list[str]]) -> None:
        new = copy.deepcopy(self.configs[-1]["groups"])  # a fresh copy: history stays as it was
        for gid, servers in groups.items():
            new[int(gid)] = list(servers)
        self._next(new, rebalance(list(self.configs[-1]["shards"]), new))

    def leave(self, gids: list[int]) -> None:
        new = copy.deepcopy(self.configs[-1]["groups"])
        for gid in gids:
            new.pop(int(gid), None)
        self._next(new, rebalance(list(self.configs[-1]["shards"]), new))

    def move(self, shard: int, gid: int) -> None:
        shards = list(self.configs[-1]["shards"])
        shards[shard] = gid
        groups = copy.deepcopy(self.configs[-1]["groups"])
        self._next(groups, rebalance(shards, groups))

    def query(self, num: int) -> dict[str, Any]:
        """Configuration num; the latest for -1 or any number not reached yet."""
        if 0 <= num < len(self.configs):
            return copy.deepcopy(self.configs[num])
        return copy.deepcopy(self.configs[-1])
