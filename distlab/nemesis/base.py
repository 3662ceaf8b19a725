"""What a fault is, and what it may do to a cluster: the two halves of the nemesis seam.

A fault is a module in this package with a `FAULT` (see `Fault`), listed once in
`registry.FAULTS`. It starts from the nemesis's random stream and returns the value
recorded in the history; it stops from that value and returns the value recorded
for the heal. It acts only through `Control`, so it is the same in every runtime;
what a runtime cannot do for it is declared in `needs`, and checked before a run.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from distlab.runtime.network import Network


class Control(Protocol):
    """What the nemesis may do to a cluster (implemented by the runner, for either runtime)."""

    node_ids: list[str]
    network: Network

    def crash(self, node_id: str) -> None: ...
    async def restart(self, node_id: str) -> None: ...
    def pause(self, node_id: str) -> None: ...
    def resume(self, node_id: str) -> None: ...
    def set_clock(self, node_id: str, **clock: float) -> None: ...
    def reset_clock(self, node_id: str) -> None: ...
    def record(self, f: str, value: Any) -> None: ...


Start = Callable[[Control, random.Random], Awaitable[Any]]
Stop = Callable[[Control, Any], Awaitable[Any]]
Warn = Callable[[list[str]], str | None]


@dataclass(frozen=True)
class Fault:
    """One kind of fault: how it starts and heals, and what it needs from the runtime.

    `needs` maps a runtime capability (`distlab.runtime.protocols.CAPABILITIES`) to
    the reason a run without it is refused, e.g. {"virtual-clock": "the simulator:
    real processes read the real clock"}. `warn`, given the node ids, says why this
    fault would do nothing on that cluster (shown as a run warning), or None.
    """

    name: str
    start: Start
    stop: Stop
    needs: Mapping[str, str] = field(default_factory=dict)
    warn: Warn | None = None


def targets(nodes: list[str], rng: random.Random) -> list[str]:
    """Jepsen's target specs: one node, a minority, a majority, or all of them."""
    n = len(nodes)
    size = {"one": 1, "minority": max(1, (n - 1) // 2), "majority": n // 2 + 1, "all": n}[
        rng.choice(("one", "minority", "majority", "all"))
    ]
    return sorted(rng.sample(nodes, size))
