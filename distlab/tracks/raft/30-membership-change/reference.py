"""A reference Raft for the tester: distlab's own `RaftCore`, seen only through the
methods the tester calls (the same interface your `make` must return), plus `members`."""

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
        config = self.config
        if node_id not in peers:
            # built outside the configuration: `peers` are the voters, this server is not
            # one until a change adds it (the core would otherwise count itself in)
            config = dataclasses.replace(config or Config(), voters=frozenset(peers))
            peers = [*peers, node_id]
        self.core = RaftCore(node_id, peers, rng, config, persisted)
        self.log = self.core.log

    @property
    def members(self) -> frozenset[str]:
        """The voters in force here: the latest configuration in the log, committed or not."""
        return self.core.members

    def tick(self) -> None:
        self.core.tick()

    def step(self, message: Any) -> None:
        self.core.step(message)

    def propose(self, command: Any) -> int | None:
        try:
            return self.core.propose(command)  # a change refused now raises ConfChangeRefused
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


def make(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> MyRaft:
    """The factory the tester calls once per server (and again after each crash)."""
    return MyRaft(node_id, peers, rng, persisted)
