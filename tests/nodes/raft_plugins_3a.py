"""Rafts with TinyKV 3A's optional members, as a learner might point `distlab raft-test`
at them: `with_transfers` adapts distlab's core through the documented interface
(transfer_leader and members included); `transfers_only` lacks `members`, so the
membership scenarios are skipped and the transfer ones run.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from distlab.systems.raft import Config, Persisted, RaftCore
from distlab.systems.raft.core import ConfChangeRefused
from tests.nodes.raft_plugins import Adapter


class WithTransfers(Adapter):
    """The core behind the interface, plus transfer_leader and members. A node whose id is
    not in `peers` is not a voter: it is built with `peers` as the configuration."""

    def __init__(self, node_id: str, peers: list[str], rng: random.Random,
                 persisted: Persisted) -> None:
        if node_id in peers:
            super().__init__(node_id, peers, rng, persisted)
            return
        config = dataclasses.replace(Config(), voters=frozenset(peers))
        self.core = RaftCore(node_id, [*peers, node_id], rng, config, persisted)
        self.log = self.core.log

    def propose(self, command: Any) -> int | None:
        try:
            return super().propose(command)
        except ConfChangeRefused:
            return None  # a refused membership change, said the 6.824 way

    def transfer_leader(self, target: str) -> None:
        self.core.transfer_leader(target)

    @property
    def members(self) -> frozenset[str]:
        return self.core.members


class TransfersOnly(WithTransfers):
    members = None  # type: ignore[assignment]  # no membership change: those scenarios skip


def with_transfers(node_id: str, peers: list[str], rng: random.Random,
                   persisted: Persisted) -> WithTransfers:
    return WithTransfers(node_id, peers, rng, persisted)


def transfers_only(node_id: str, peers: list[str], rng: random.Random,
                   persisted: Persisted) -> TransfersOnly:
    return TransfersOnly(node_id, peers, rng, persisted)
