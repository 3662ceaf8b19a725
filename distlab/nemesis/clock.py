"""Clock: skew what target nodes see as now, by a bump, a strobe or a drift (Jepsen's modes).

Only a runtime that owns the nodes' clocks can do this, hence `needs`.
"""

from __future__ import annotations

import random
from typing import Any

from distlab.nemesis.base import Control, Fault, targets


async def start(c: Control, rng: random.Random) -> Any:
    value = {}
    mode = rng.choice(("bump", "strobe", "drift"))
    for node in targets(list(c.node_ids), rng):
        if mode == "bump":
            clock = {"offset": round(rng.uniform(-60, 60), 3)}
        elif mode == "strobe":
            clock = {"strobe_delta": round(rng.uniform(-0.5, 0.5), 3), "strobe_period": 0.01}
        else:
            clock = {"drift": round(rng.uniform(-0.1, 0.1), 4)}
        c.set_clock(node, **clock)
        value[node] = {"mode": mode, **clock}
    return value


async def stop(c: Control, value: Any) -> Any:
    for node in value:
        c.reset_clock(node)
    return sorted(value)


FAULT = Fault("clock", start, stop, needs={"virtual-clock": "the simulator: real processes read the real clock"})
