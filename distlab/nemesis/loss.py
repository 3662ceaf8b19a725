"""Loss: a burst of message loss and duplication, back to the run's own rates on heal."""

from __future__ import annotations

import random
from typing import Any

from distlab.nemesis.base import Control, Fault


async def start(c: Control, rng: random.Random) -> Any:
    loss, dup = round(rng.uniform(0.1, 0.5), 3), round(rng.uniform(0.0, 0.3), 3)
    c.network.set_loss(loss, dup)
    return {"loss": loss, "duplication": dup}


async def stop(c: Control, value: Any) -> Any:
    c.network.restore_loss()
    return "loss restored"


FAULT = Fault("loss", start, stop)
