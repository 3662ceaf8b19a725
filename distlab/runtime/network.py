"""The network model every runtime routes server-to-server messages through.

Pure decisions, no I/O: given a message's endpoints it says after which delays
the copies arrive (none if lost, two if duplicated), and at receive time
whether a partition drops it. The simulator and the process harness share it,
so a fault behaves the same in both.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

DISTRIBUTIONS = ("constant", "uniform", "exponential")

DEFAULT_JITTER_MS = 0.25
"""Mean, in ms, of the delay the simulator gives each server message when no
--latency is set: exponential, and in order per link, like the scheduling noise
between processes on one machine. Zero delay would run every request to
completion before the next one starts, so a racy node could never be caught.
"""


@dataclass
class Latency:
    """A latency distribution with mean `mean` seconds."""

    mean: float = 0.0
    dist: str = "constant"

    def __post_init__(self) -> None:
        if self.dist not in DISTRIBUTIONS:
            raise ValueError(f"unknown latency distribution {self.dist!r}; use one of {', '.join(DISTRIBUTIONS)}")
        if self.mean < 0 or not math.isfinite(self.mean):
            raise ValueError(f"latency must be a finite number >= 0, not {self.mean}")

    def sample(self, rng: random.Random) -> float:
        if self.mean == 0:
            return 0.0
        if self.dist == "constant":
            return self.mean
        if self.dist == "uniform":
            return rng.uniform(0, 2 * self.mean)
        return rng.expovariate(1 / self.mean)


def _check_probability(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} probability must be in [0, 1], not {value}")


@dataclass
class Network:
    """Latency, loss, duplication and partitions for traffic between servers.

    `grudge[receiver]` is the set of senders the receiver currently drops
    (Jepsen's representation); it is consulted when a message would be received,
    so a message sent before a partition can still be cut by it.
    """

    rng: random.Random
    latency: Latency = field(default_factory=Latency)
    loss: float = 0.0
    duplication: float = 0.0
    links: dict[tuple[str, str], Latency] = field(default_factory=dict)
    grudge: dict[str, frozenset[str]] = field(default_factory=dict)
    fifo: bool = False
    """Each directed link delivers in send order (a pipe), whatever the sampled delays."""

    def __post_init__(self) -> None:
        _check_probability("loss", self.loss)
        _check_probability("duplication", self.duplication)
        self._baseline = (self.loss, self.duplication)
        self._last_arrival: dict[tuple[str, str], float] = {}

    def set_link(self, src: str, dest: str, latency: Latency) -> None:
        """Override the latency of one directed link."""
        self.links[(src, dest)] = latency

    def delays(self, src: str, dest: str) -> tuple[float, ...]:
        """Arrival delays of the copies of one message: () lost, (d,) normal, (d1, d2) duplicated."""
        rng = self.rng
        if self.loss and rng.random() < self.loss:
            return ()
        latency = self.links.get((src, dest), self.latency)
        first = latency.sample(rng)
        if self.duplication and rng.random() < self.duplication:
            return (first, latency.sample(rng))
        return (first,)

    def arrivals(self, src: str, dest: str, now: float) -> list[float]:
        """Arrival times of the copies of a message sent at `now`; with `fifo`, none
        earlier than the link's previous arrival (equal times keep send order)."""
        delays = self.delays(src, dest)
        if not self.fifo:
            return [now + d for d in delays]
        link = (src, dest)
        last = self._last_arrival.get(link, 0.0)
        times = []
        for d in delays:
            at = now + d
            if at < last:
                at = last
            last = at
            times.append(at)
        if times:
            self._last_arrival[link] = last
        return times

    def blocked(self, src: str, dest: str) -> bool:
        """At receive time: does a partition drop this message?"""
        drops = self.grudge.get(dest)
        return drops is not None and src in drops

    # ----- faults -----------------------------------------------------------------------
    def partition(self, grudge: dict[str, frozenset[str]]) -> None:
        self.grudge = {node: frozenset(senders) for node, senders in grudge.items() if senders}

    def heal(self) -> None:
        self.grudge = {}

    def set_loss(self, loss: float, duplication: float) -> None:
        _check_probability("loss", loss)
        _check_probability("duplication", duplication)
        self.loss, self.duplication = loss, duplication

    def restore_loss(self) -> None:
        self.loss, self.duplication = self._baseline


# ----- partition shapes (Jepsen's names) ----------------------------------------------


def complete_grudge(components: list[list[str]]) -> dict[str, frozenset[str]]:
    """Every node drops messages from every node outside its own component."""
    everyone = [n for comp in components for n in comp]
    grudge = {}
    for comp in components:
        inside = set(comp)
        for node in comp:
            grudge[node] = frozenset(n for n in everyone if n not in inside)
    return grudge


def halves(nodes: list[str], rng: random.Random) -> dict[str, frozenset[str]]:
    """A random majority cut off from a random minority."""
    shuffled = list(nodes)
    rng.shuffle(shuffled)
    cut = len(shuffled) // 2
    return complete_grudge([shuffled[:cut], shuffled[cut:]])


def isolate_one(nodes: list[str], rng: random.Random) -> dict[str, frozenset[str]]:
    lone = rng.choice(nodes)
    return complete_grudge([[lone], [n for n in nodes if n != lone]])


def majorities_ring(nodes: list[str], rng: random.Random) -> dict[str, frozenset[str]]:
    """Each node sees a majority (itself and its ring neighbours), no two the same one."""
    ring = list(nodes)
    rng.shuffle(ring)
    n = len(ring)
    majority = n // 2 + 1
    back = (majority - 1) // 2
    grudge = {}
    for i, node in enumerate(ring):
        visible = {ring[(i - back + k) % n] for k in range(majority)}
        grudge[node] = frozenset(m for m in ring if m not in visible)
    return grudge


def bridge(nodes: list[str], rng: random.Random) -> dict[str, frozenset[str]]:
    """Two halves that cannot talk, except through one node that sees both."""
    shuffled = list(nodes)
    rng.shuffle(shuffled)
    mid = len(shuffled) // 2
    middle = shuffled[mid]
    left, right = set(shuffled[:mid]), set(shuffled[mid + 1 :])
    grudge = {middle: frozenset()}
    for node in left:
        grudge[node] = frozenset(right)
    for node in right:
        grudge[node] = frozenset(left)
    return grudge


PARTITIONS = {
    "halves": halves,
    "isolate-one": isolate_one,
    "majorities-ring": majorities_ring,
    "bridge": bridge,
}
