"""Your Raft, growing leader transfer (TinyKV project 3A): the tester builds one with
`make(...)` per server. Start from your Raft of the membership-change task (`distlab
start` moves a passed task's edited file to done/raft-<task>/): paste it over this
skeleton, keeping the TODOs marked 3A.

Everything here loads and runs, and fails the grade until you fill it in. The tester
drives the node in the sans-I/O style: it calls tick() and step(message), then asks
has_ready()/ready() for what to store, send and apply, and calls advance(ready).
See `distlab/systems/raft/tester.py`'s docstring and `Ready` in distlab.systems.raft.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from distlab.systems.raft import Persisted, Ready


@dataclass
class Point:
    """Where a snapshot ends (index 0, term 0: no snapshot yet)."""

    index: int = 0
    term: int = 0


class MyLog:
    """The log as the tester reads it: entries (snapshot_index, last_index]."""

    def __init__(self) -> None:
        self.snapshot = Point()
        self.entries: list[Any] = []  # each with .index, .term and .command

    @property
    def snapshot_index(self) -> int:
        return self.snapshot.index

    @property
    def last_index(self) -> int:
        return self.snapshot_index + len(self.entries)

    def term_at(self, index: int) -> int | None:
        if index == self.snapshot_index:
            return self.snapshot.term
        if self.snapshot_index < index <= self.last_index:
            return int(self.entries[index - self.snapshot_index - 1].term)
        return None

    def entry(self, index: int) -> Any:
        return self.entries[index - self.snapshot_index - 1]


class MyRaft:
    """One Raft server. TODO: the state of Figure 2 (currentTerm, votedFor, log, ...)."""

    def __init__(self, node_id: str, peers: list[str], rng: random.Random,
                 persisted: Persisted) -> None:
        self.id = node_id
        self.peers = peers  # the initial configuration; this server too, unless it is to be added
        # The voters in force here (the tester reads it). Without your own id in `peers`
        # you are not a voter until a change adds you: never stand for election before.
        self.members: set[str] = set(peers)
        self.rng = rng  # your only source of randomness (election timeouts)
        self.log = MyLog()
        self.term = persisted.hard.term
        self.vote = persisted.hard.vote
        self.role = "follower"
        self.commit = 0
        self.outbox: list[Any] = []  # messages to hand out in the next Ready

    def tick(self) -> None:
        """TODO: count down the election timeout; as leader, send heartbeats."""

    def step(self, message: Any) -> None:
        """TODO: handle RequestVote, AppendEntries and their replies (your own message
        class: it needs .src, .dest and .kind)."""

    def propose(self, command: Any) -> int | None:
        """TODO (2B): as leader, append `command` and return its index; else None.
        TODO (3A): a membership change is the command {"conf_change": "add" | "remove",
        "node": id} (distlab.systems.raft.core.as_conf_change recognises it). Refuse it
        (return None, or raise distlab.systems.raft.core.ConfChangeRefused) while an
        earlier change is uncommitted; else append it and switch `members` (and whom
        you replicate to and count) at once."""
        return None

    def compact(self, index: int, data: Any) -> None:
        """TODO (2D): the state machine is saved up to `index`: drop the log before it."""
        raise NotImplementedError("compact: snapshots are part 2D")

    def transfer_leader(self, target: str) -> None:
        """TODO (3A): as leader, hand leadership to `target`: stop taking commands, bring
        its log up to date, then send it TimeoutNow (campaign at once); give up after an
        election timeout. `target` == yourself cancels a pending transfer; a target that
        is not a voter changes nothing (raising ValueError is fine). On a follower raise
        distlab.systems.raft.NotLeader(leader_id) (or pass the request on)."""
        raise NotImplementedError("transfer_leader")

    def has_ready(self) -> bool:
        return bool(self.outbox)

    def ready(self) -> Ready:
        """TODO: also the hard state to store (2C), new entries and committed ones (2B)."""
        rd = Ready(messages=self.outbox)
        self.outbox = []
        return rd

    def advance(self, ready: Ready) -> None:
        """The tester stored, sent and applied `ready`."""

    def status(self) -> dict[str, Any]:
        return {"term": self.term, "role": self.role, "commit": self.commit}


def make(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> MyRaft:
    """The factory `distlab check` (and `distlab raft-test myraft.py:make`) calls."""
    return MyRaft(node_id, peers, rng, persisted)
