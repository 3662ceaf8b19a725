"""Mutant: the leader counts a majority of its peers, forgetting that it is one of the
servers too, so it commits with half the cluster or less."""

from __future__ import annotations

import random
from typing import Any

from distlab.systems.raft import Config, NotLeader, Persisted, RaftCore, Ready


class MyRaft:
    """Forwards each call to the core; `config` lets a subclass change its settings."""

    config: Config | None = None

    def __init__(self, node_id: str, peers: list[str], rng: random.Random,
                 persisted: Persisted) -> None:
        self.core = RaftCore(node_id, peers, rng, self.config, persisted)
        self.log = self.core.log

    def tick(self) -> None:
        self.core.tick()

    def step(self, message: Any) -> None:
        self.core.step(message)

    def propose(self, command: Any) -> int | None:
        try:
            return self.core.propose(command)
        except NotLeader:
            return None  # 6.824's Start() returning isLeader = false

    def compact(self, index: int, data: Any) -> None:
        self.core.compact(index, data)

    def has_ready(self) -> bool:
        return self.core.has_ready()

    def ready(self) -> Ready:
        return self.core.ready()

    def advance(self, ready: Ready) -> None:
        self.core.advance(ready)

    def status(self) -> dict[str, Any]:
        return self.core.status()



class HalfCountingCore(RaftCore):
    """Commits the highest index held by len(peers) // 2 servers, itself included."""

    def _maybe_commit(self) -> None:
        matches = sorted([pr.match for pr in self.progress.values()] + [self.log.last_index],
                         reverse=True)
        n = matches[max(len(self.peers) // 2 - 1, 0)]
        if n > self.commit_index and self.log.term_at(n) == self.term:
            self.commit_index = n


class Buggy(MyRaft):
    """A server whose core commits with too few replicas."""

    def __init__(self, node_id: str, peers: list[str], rng: random.Random,
                 persisted: Persisted) -> None:
        self.core = HalfCountingCore(node_id, peers, rng, self.config, persisted)
        self.log = self.core.log


def make(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> MyRaft:
    """The factory, building the buggy server."""
    return Buggy(node_id, peers, rng, persisted)
