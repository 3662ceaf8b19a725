"""The runtime seam: what the runner may ask of a harness loop and of a cluster.

Both runtimes (the simulator's VirtualLoop/SimCluster, the process harness's
RealLoop/ProcessCluster) meet these protocols, and `distlab.runtime.factory`
builds one pair from the run's options, so the runner is written once. This
module imports nothing heavy: options validation reads CAPABILITIES from it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from distlab.runtime.network import Network

CAPABILITIES: dict[str, frozenset[str]] = {
    "sim": frozenset({"virtual-clock"}),
    "process": frozenset(),
    # plus "kernel-delay" and "kernel-duplication" where the kernel can make them (tc netem,
    # else the NFQUEUE shaper and nftables dup), and "netem" where it has tc's netem qdisc
    "net": frozenset({"kernel-network"}),
}
"""What each runtime can do beyond the common seam; a fault's `needs` names these."""


class Timer(Protocol):
    """A scheduled harness callback."""

    def cancel(self) -> None: ...


class HarnessLoop(Protocol):
    """The event loop as the runner drives it: time since the run began, harness timers, abort.

    `now` is the same as `time()`, read as an attribute: the runner and the wire
    read it per message and per operation, where a method call costs measurably.
    """

    @property
    def now(self) -> float: ...
    @property
    def abort_reason(self) -> str | None: ...

    exception_sink: Callable[[Any, dict[str, Any]], None] | None

    def time(self) -> float: ...
    def create_future(self) -> asyncio.Future[Any]: ...
    def call_harness_at(self, when: float, callback: Callable[..., Any], *args: Any) -> Timer: ...
    def rearm_harness(self, timer: Any, when: float, callback: Callable[[], Any]) -> Timer: ...
    def call_harness_soon(self, callback: Callable[..., Any], *args: Any) -> Timer: ...
    def abort(self, reason: str) -> None:
        """End the run with this reason (the first one wins)."""
    def run_guarded(self, main: Coroutine[Any, Any, Any]) -> Any: ...
    def shutdown(self) -> None: ...


class Cluster(Protocol):
    """The nodes as the runner drives them: start, fault, route client traffic, count, close."""

    capabilities: frozenset[str]
    node_ids: list[str]
    network: Network
    client_handler: Callable[[str, dict[str, Any]], None] | None
    services: dict[str, Any]
    node_events: Any
    clients: set[str]
    server_msgs: int
    client_msgs: int
    dropped: int
    lost: int

    def start(self, node_id: str) -> None: ...
    def crash(self, node_id: str) -> None: ...
    def pause(self, node_id: str) -> None: ...
    def resume(self, node_id: str) -> None: ...
    def add_client(self, client_id: str) -> None: ...
    def route(self, src: str, dest: str, body: dict[str, Any]) -> None: ...
    def close(self) -> None: ...


class ClockCluster(Cluster, Protocol):
    """A cluster with the "virtual-clock" capability: it owns what each node sees as now."""

    def set_clock(self, node_id: str, **clock: float) -> None: ...
    def reset_clock(self, node_id: str) -> None: ...
