"""Pause: Jepsen's target nodes receive nothing and run nothing until they resume."""

from __future__ import annotations

import random
from typing import Any

from distlab.nemesis.base import Control, Fault, targets


async def start(c: Control, rng: random.Random) -> Any:
    value = targets(list(c.node_ids), rng)
    for node in value:
        c.pause(node)
    return value


async def stop(c: Control, value: Any) -> Any:
    for node in value:
        c.resume(node)
    return value


FAULT = Fault("pause", start, stop)
