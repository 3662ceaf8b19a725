"""Partition: a grudge of one of the network's shapes (halves, isolate one, ring, bridge...)."""

from __future__ import annotations

import random
from typing import Any

from distlab.nemesis.base import Control, Fault
from distlab.runtime.network import PARTITIONS


async def start(c: Control, rng: random.Random) -> Any:
    nodes = list(c.node_ids)
    shape = rng.choice(sorted(PARTITIONS)) if len(nodes) > 2 else "isolate-one"
    grudge = PARTITIONS[shape](nodes, rng)
    c.network.partition(grudge)
    return {"shape": shape, "grudge": {k: sorted(v) for k, v in sorted(grudge.items()) if v}}


async def stop(c: Control, value: Any) -> Any:
    c.network.heal()
    return "network healed"


def warn(node_ids: list[str]) -> str | None:
    if len(node_ids) < 2:
        return "--nemesis partition with a single node: there is no other node to cut it off from"
    return None


FAULT = Fault("partition", start, stop, warn=warn)
