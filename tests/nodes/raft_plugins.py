"""Rafts a learner might point `distlab raft-test` at: factories with the tester's
interface. `correct` adapts distlab's core; the others carry one learner-style bug each,
made outside the core (in the glue a learner writes), so the tester must find it by
behaviour alone.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from distlab.systems.raft import NotLeader, Persisted, RaftCore


class Adapter:
    """distlab's RaftCore seen only through the documented interface."""

    def __init__(self, node_id: str, peers: list[str], rng: random.Random,
                 persisted: Persisted) -> None:
        self.core = RaftCore(node_id, peers, rng, None, persisted)
        self.log = self.core.log

    def tick(self) -> None:
        self.core.tick()

    def step(self, m: Any) -> None:
        self.core.step(m)

    def propose(self, command: Any) -> int | None:
        try:
            return self.core.propose(command)
        except NotLeader:
            return None  # how a learner's Raft says "not the leader" (6.824's isLeader false)

    def read_index(self, ctx: Any) -> None:
        self.core.read_index(ctx)

    def compact(self, index: int, data: Any) -> None:
        self.core.compact(index, data)

    def has_ready(self) -> bool:
        return self.core.has_ready()

    def ready(self) -> Any:
        return self.core.ready()

    def advance(self, rd: Any) -> None:
        self.core.advance(rd)

    def status(self) -> dict[str, Any]:
        return self.core.status()


def correct(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> Adapter:
    return Adapter(node_id, peers, rng, persisted)


class ForgetsLog(Adapter):
    """Bug: never asks for its log entries to be stored (term and vote are)."""

    def ready(self) -> Any:
        self._real = self.core.ready()
        return dataclasses.replace(self._real, entries=[], last_index=None)

    def advance(self, rd: Any) -> None:
        self.core.advance(self._real)


class NeverDone(Adapter):
    """Bug: advance() forgets to mark the batch as handled, so has_ready() stays true."""

    def advance(self, rd: Any) -> None:
        pass


def never_done(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> Adapter:
    return NeverDone(node_id, peers, rng, persisted)


def forgets_log(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> Adapter:
    return ForgetsLog(node_id, peers, rng, persisted)


class NoSnapshots(Adapter):
    """No compact() and no read_index(): the snapshot and read scenarios are skipped."""

    compact = None  # type: ignore[assignment]
    read_index = None  # type: ignore[assignment]


def no_snapshots(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> Adapter:
    return NoSnapshots(node_id, peers, rng, persisted)


class Hangs(Adapter):
    """Bug: an endless loop once the term reaches 2."""

    def tick(self) -> None:
        while self.core.term >= 2:
            pass
        self.core.tick()


def hangs(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> Adapter:
    return Hangs(node_id, peers, rng, persisted)


class Raises(Adapter):
    """Bug: a KeyError in the learner's message handling."""

    def step(self, m: Any) -> None:
        if m.kind == "append_resp":
            lookup: dict[str, int] = {}
            lookup[m.src] += 1
        self.core.step(m)


def raises(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> Adapter:
    return Raises(node_id, peers, rng, persisted)


class Incomplete:
    """Lacks most of the interface."""

    def __init__(self, *args: Any) -> None:
        pass

    def tick(self) -> None:
        pass


NOT_CALLABLE = 42


class _LogWithoutTermAt:
    """A log a learner forgot to finish: no term_at."""

    def __init__(self, log: Any) -> None:
        self.snapshot_index = log.snapshot_index
        self.snapshot = log.snapshot
        self.last_index = log.last_index

    def entry(self, index: int) -> Any:
        return None


class Mistyped(Adapter):
    """Has every member, but three are wrong: tick is not a method, step takes no
    message, and the log has no term_at."""

    tick = 5  # type: ignore[assignment]

    def __init__(self, node_id: str, peers: list[str], rng: random.Random,
                 persisted: Persisted) -> None:
        super().__init__(node_id, peers, rng, persisted)
        self.log = _LogWithoutTermAt(self.core.log)

    def step(self) -> None:  # type: ignore[override]
        pass


def mistyped(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> Adapter:
    return Mistyped(node_id, peers, rng, persisted)


class HalfDone:
    """Lacks has_ready and advance; propose forgets its command; status lacks the commit."""

    def __init__(self, *args: Any) -> None:
        self.log = RaftCore("s0", ["s0"], random.Random(0)).log

    def tick(self) -> None:
        pass

    def step(self, m: Any) -> None:
        pass

    def propose(self) -> None:
        pass

    def ready(self) -> Any:
        return None

    def status(self) -> dict[str, Any]:
        return {"term": 0, "role": "follower"}
