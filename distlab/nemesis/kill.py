"""Kill: crash Jepsen's target nodes (unsynced writes are lost), restart them on heal."""

from __future__ import annotations

import random
from typing import Any

from distlab.nemesis.base import Control, Fault, targets


async def start(c: Control, rng: random.Random) -> Any:
    value = targets(list(c.node_ids), rng)
    for node in value:
        c.crash(node)
    return value


async def stop(c: Control, value: Any) -> Any:
    for node in value:
        await c.restart(node)
    return value


async def start_majority(c: Control, rng: random.Random) -> Any:
    """A kill of a majority or of every node (Jepsen's two specs that take one down), for a
    schedule that must include one (Nemesis `ensure` "kill-majority")."""
    nodes = list(c.node_ids)
    size = len(nodes) if rng.choice(("majority", "all")) == "all" else len(nodes) // 2 + 1
    value = sorted(rng.sample(nodes, size))
    for node in value:
        c.crash(node)
    return value


FAULT = Fault("kill", start, stop)
