"""Mutant: the snapshot is never handed to stable storage."""

from __future__ import annotations

import dataclasses
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


class Buggy(MyRaft):
    """ready() drops its snapshot, so the log is never trimmed on disk."""

    def ready(self) -> Ready:
        self._real = self.core.ready()
        return dataclasses.replace(self._real, snapshot=None)

    def advance(self, ready: Ready) -> None:
        self.core.advance(self._real)


def make(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> MyRaft:
    """The factory, building the buggy server."""
    return Buggy(node_id, peers, rng, persisted)
