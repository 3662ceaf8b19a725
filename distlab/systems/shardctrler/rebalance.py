"""The shard controller's state machine: configurations, and rebalancing that moves as
few shards as possible.

A configuration is numbered; it maps each of NSHARDS shards to a replica group id (gid)
and each group to its servers. Configuration 0 has no groups and every shard on gid 0
(no group). Join and Leave make a new configuration and rebalance: every shard goes to
a live group, group sizes differ by at most one (max <= min + 1), and as few shards as
possible change owner, since each moved shard is data a replica group must ship to
another. Move makes a new configuration with one shard reassigned and no rebalancing.

Everything here is deterministic, with ties broken by gid: every replica applies the
same log and must compute the very same configurations (a replica that broke ties by
its own random numbers or by hash order would answer queries differently from the
others). `rebalance` takes any current assignment, balanced or not (Move unbalances).
"""

from __future__ import annotations

import copy
import random
from collections import Counter
from collections.abc import Iterable
from typing import Any

NSHARDS = 10

Config = dict[str, Any]  # {"num": int, "shards": [gid] * NSHARDS, "groups": {gid: [server]}}


def rebalance(shards: list[int], gids: Iterable[int], rng: random.Random | None = None) -> list[int]:
    """A balanced assignment of the shards to `gids` that keeps the most shards where
    they are. Group g's quota is base or base + 1 shards (base = shards // groups); the
    larger quotas go to the groups holding the most shards now (ties: smaller gid), each
    group keeps its lowest-numbered shards up to its quota, and the shards left over go,
    lowest first, to the groups below quota, smallest gid first.

    Why it is minimal: a group keeps min(held, quota) shards, and a larger quota helps
    only a group holding more than base, so handing the extra ones to the largest
    holders maximises the shards kept. `rng` breaks ties at random instead: the
    known-bad variant (replicas diverge)."""
    members = sorted(set(gids))
    n = len(shards)
    if not members:
        return [0] * n
    held = Counter(g for g in shards if g in set(members))

    def tie(g: int) -> Any:
        return rng.random() if rng is not None else g

    by_size = sorted(members, key=lambda g: (-held[g], tie(g)))
    base, extra = divmod(n, len(members))
    quota = {g: base + (1 if i < extra else 0) for i, g in enumerate(by_size)}
    out = [0] * n
    kept: Counter[int] = Counter()
    free = []
    for s, g in enumerate(shards):
        if g in quota and kept[g] < quota[g]:
            out[s] = g
            kept[g] += 1
        else:
            free.append(s)
    fill = members if rng is None else sorted(members, key=tie)
    for g in fill:
        while kept[g] < quota[g]:
            out[free.pop(0)] = g
            kept[g] += 1
    return out


def rebuild(shards: list[int], gids: Iterable[int]) -> list[int]:
    """The known-bad rebalancing: deal the shards round-robin over the sorted groups,
    ignoring who holds what (balanced and deterministic, but it moves shards needlessly)."""
    members = sorted(set(gids))
    if not members:
        return [0] * len(shards)
    return [members[s % len(members)] for s in range(len(shards))]


def moves(before: list[int], after: list[int]) -> int:
    """How many shards changed owner."""
    return sum(1 for a, b in zip(before, after, strict=True) if a != b)


def balanced(shards: list[int], gids: Iterable[int]) -> bool:
    """Every shard on a member (all on 0 when there are none), sizes within one."""
    members = set(gids)
    if not members:
        return all(g == 0 for g in shards)
    if any(g not in members for g in shards):
        return False
    counts = Counter(shards)
    sizes = [counts[g] for g in members]
    return max(sizes) <= min(sizes) + 1


def min_moves(shards: list[int], gids: Iterable[int]) -> int:
    """The fewest shards that must change owner to balance `shards` over `gids`
    (a closed form; `rebalance` achieves it; tests compare both with brute force)."""
    members = sorted(set(gids))
    if not members:
        return sum(1 for g in shards if g != 0)
    held = Counter(g for g in shards if g in set(members))
    base, extra = divmod(len(shards), len(members))
    sizes = sorted((held[g] for g in members), reverse=True)
    kept = sum(min(h, base + (1 if i < extra else 0)) for i, h in enumerate(sizes))
    return len(shards) - kept


# ----- the replicated state machine -------------------------------------------------------
def initial_config(nshards: int = NSHARDS) -> Config:
    return {"num": 0, "shards": [0] * nshards, "groups": {}}


class Controller:
    """The controller's state: every configuration so far. `apply` runs one logged
    command (join, leave, move) and returns the reply body; `query` reads."""

    def __init__(self, nshards: int = NSHARDS, mutant: str = "", rng: random.Random | None = None) -> None:
        self.configs: list[Config] = [initial_config(nshards)]
        self.mutant = mutant
        self.rng = rng

    def latest(self) -> Config:
        return self.configs[-1]

    def query(self, num: int) -> Config:
        """Configuration `num`, or the latest for -1 or a number not reached yet."""
        if 0 <= num < len(self.configs):
            return self.configs[num]
        return self.configs[-1]

    def _next(self, groups: dict[int, list[str]], shards: list[int], rebalanced: bool) -> None:
        if rebalanced:
            if self.mutant == "rebuild":
                shards = rebuild(shards, groups)
            elif self.mutant == "random-ties":
                shards = rebalance(shards, groups, self.rng or random.Random())
            else:
                shards = rebalance(shards, groups)
        self.configs.append({"num": len(self.configs), "shards": shards, "groups": groups})

    def apply(self, cmd: dict[str, Any]) -> dict[str, Any]:
        cur = self.latest()
        groups = copy.deepcopy(cur["groups"])
        op = cmd["op"]
        if op == "join":
            for gid, servers in cmd["groups"].items():
                groups[int(gid)] = list(servers)
            self._next(groups, list(cur["shards"]), True)
        elif op == "leave":
            for gid in cmd["gids"]:
                groups.pop(int(gid), None)
            self._next(groups, list(cur["shards"]), True)
        elif op == "move":
            shards = list(cur["shards"])
            shards[int(cmd["shard"])] = int(cmd["gid"])
            self._next(groups, shards, False)
        else:
            raise ValueError(f"unknown command {op!r}")
        return {"type": f"{op}_ok"}

    def snapshot(self) -> list[Any]:
        return [to_wire(c) for c in self.configs]

    def restore(self, data: list[Any]) -> None:
        self.configs = [from_wire(c) for c in data]


def to_wire(config: Config) -> dict[str, Any]:
    """A configuration as JSON carries it: group ids become object keys (strings)."""
    return {"num": config["num"], "shards": list(config["shards"]),
            "groups": {str(g): list(s) for g, s in sorted(config["groups"].items())}}


def from_wire(doc: dict[str, Any]) -> Config:
    return {"num": int(doc["num"]), "shards": [int(g) for g in doc["shards"]],
            "groups": {int(g): list(s) for g, s in doc["groups"].items()}}
