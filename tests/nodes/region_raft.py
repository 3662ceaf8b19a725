"""Rafts a learner might point `distlab region-lab --raft` at: `correct` is distlab's core
seen only through RaftLike plus compact and transfer_leader (propose answers None when not
the leader; no role or progress attributes, so the lab must use status()); the others
carry a classic bug each, or lack what the lab needs."""

from __future__ import annotations

import random
from typing import Any

from distlab.systems.raft import NotLeader, Persisted, RaftCore
from distlab.systems.raft.core import Config


class Node:
    """The core behind the documented interface only."""

    def __init__(self, node_id: str, peers: list[str], rng: random.Random, persisted: Persisted,
                 mutants: frozenset[str] = frozenset()) -> None:
        # `peers` are the voters to start with; a peer added later is not among them
        self._core = RaftCore(node_id, sorted(set(peers) | {node_id}), rng,
                              Config(voters=frozenset(peers), mutants=mutants), persisted)
        self.log = self._core.log

    def tick(self) -> None:
        self._core.tick()

    def step(self, m: Any) -> None:
        self._core.step(m)

    def propose(self, command: Any) -> int | None:
        try:
            return self._core.propose(command)
        except NotLeader:
            return None

    def compact(self, index: int, data: Any) -> None:
        self._core.compact(index, data)
        self.log = self._core.log

    def transfer_leader(self, target: str) -> None:
        self._core.transfer_leader(target)

    def has_ready(self) -> bool:
        return self._core.has_ready()

    def ready(self) -> Any:
        return self._core.ready()

    def advance(self, rd: Any) -> None:
        self._core.advance(rd)

    def status(self) -> dict[str, Any]:
        return self._core.status()


def correct(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> Node:
    return Node(node_id, peers, rng, persisted)


def accept_stale_append(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> Node:
    """Obeys AppendEntries from an older term: a deposed leader's late message overwrites
    committed entries."""
    return Node(node_id, peers, rng, persisted, frozenset({"accept-stale-append"}))


def truncate_on_heartbeat(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> Node:
    """Drops the log after an append's last entry even when everything matched: a late
    heartbeat cuts off committed entries."""
    return Node(node_id, peers, rng, persisted, frozenset({"truncate-on-heartbeat"}))


class NoTransfer(Node):
    transfer_leader = None  # type: ignore[assignment]


def no_transfer(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> NoTransfer:
    """Lacks leader transfer (TinyKV 3A): the lab cannot move leaders, so it refuses to start."""
    return NoTransfer(node_id, peers, rng, persisted)


class Raises(Node):
    def step(self, m: Any) -> None:
        if getattr(m, "kind", "") == "snapshot":
            raise KeyError("snapshot handling not written yet")
        super().step(m)


def raises_on_snapshot(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> Raises:
    return Raises(node_id, peers, rng, persisted)
