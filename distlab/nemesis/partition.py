"""Partition: a grudge of one of the network's shapes (halves, isolate one, ring, bridge...)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from typing import Any

from distlab.nemesis.base import Control, Fault
from distlab.runtime.network import PARTITIONS


async def start(c: Control, rng: random.Random) -> Any:
    nodes = list(c.node_ids)
    shape = rng.choice(sorted(PARTITIONS)) if len(nodes) > 2 else "isolate-one"
    grudge = PARTITIONS[shape](nodes, rng)
    c.network.partition(grudge)
    return {"shape": shape, "grudge": {k: sorted(v) for k, v in sorted(grudge.items()) if v}}


def connected_majority(nodes: list[str], grudge: dict[str, frozenset[str]]) -> bool:
    """Whether some majority of `nodes` can all hear each other under `grudge`."""
    quorum = len(nodes) // 2 + 1
    return any(all(b not in grudge.get(a, ()) for a in group for b in group)
               for group in itertools.combinations(nodes, quorum))


async def _start_where(c: Control, rng: random.Random, ok: Callable[[str, list[str], dict[str, frozenset[str]]], bool]
                       ) -> Any:
    """A partition drawn as `start` draws one, again until `ok(shape, nodes, grudge)`: a first
    draw that already is one is the very partition `start` makes."""
    nodes = list(c.node_ids)
    for _ in range(100):
        shape = rng.choice(sorted(PARTITIONS)) if len(nodes) > 2 else "isolate-one"
        grudge = PARTITIONS[shape](nodes, rng)
        if ok(shape, nodes, grudge):
            break
    else:  # not reached with Jepsen's shapes (isolate-one is both); never loop forever
        shape, grudge = "isolate-one", PARTITIONS["isolate-one"](nodes, rng)
    c.network.partition(grudge)
    return {"shape": shape, "grudge": {k: sorted(v) for k, v in sorted(grudge.items()) if v}}


async def start_majority(c: Control, rng: random.Random) -> Any:
    """A partition that leaves some majority connected (Nemesis `ensure` "partition-majority")."""
    return await _start_where(c, rng, lambda shape, nodes, grudge: connected_majority(nodes, grudge))


async def start_isolate_one(c: Control, rng: random.Random) -> Any:
    """A partition that cuts one node off from all the others (Nemesis `ensure`
    "partition-isolate-one"): that node falls behind by whatever the others commit."""
    return await _start_where(c, rng, lambda shape, nodes, grudge: shape == "isolate-one")


async def stop(c: Control, value: Any) -> Any:
    c.network.heal()
    return "network healed"


def warn(node_ids: list[str]) -> str | None:
    if len(node_ids) < 2:
        return "--nemesis partition with a single node: there is no other node to cut it off from"
    return None


FAULT = Fault("partition", start, stop, warn=warn)
