"""Raft's safety properties (Figure 3 of the paper), checked on what a tester observes.

`Invariants` remembers what it has seen (the leader of each term, every (index, term)
entry and its predecessor, every committed entry) and raises `SafetyViolation` the
moment an observation contradicts it:

* election safety: at most one leader per term;
* log matching: one (index, term) pair names one entry, with one predecessor term;
* leader completeness: a leader holds every entry committed in an earlier term;
* state machine safety: every node applies the same command at each index, and an
  entry a node has seen committed never changes;
* durability: every committed entry is on the stable storage of a majority (in its log
  or under its snapshot), so no crash or election can lose it.

It knows nothing of networks or faults: the tester hands it nodes, statuses and disks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from distlab.systems.raft.disk import Disk
from distlab.systems.raft.quorum import majority

LEADER_ROLE = "leader"


class SafetyViolation(AssertionError):
    """One of Raft's safety properties does not hold (or a tester-level check failed)."""


class Invariants:
    """What the checks have learned so far about one cluster of `n` nodes."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.committed: dict[int, tuple[int, Any]] = {}  # index -> (term, command)
        self.max_committed = 0
        self.leaders: dict[int, str] = {}  # term -> the one leader seen in it
        self.entry_ids: dict[tuple[int, int], tuple[Any, int]] = {}  # (index, term) -> cmd, prev
        self.durable_to = 0  # committed entries up to here are known to be on a majority

    def election(self, i: str, status: dict[str, Any]) -> None:
        """Election safety: node i's status names no second leader for its term."""
        if status["role"] == LEADER_ROLE:
            other = self.leaders.setdefault(status["term"], i)
            if other != i:
                raise SafetyViolation(f"election safety: two leaders in term {status['term']}: "
                                      f"{other} and {i}")

    def learn_committed(self, i: str, index: int, term: int, command: Any) -> None:
        """Node i holds (term, command) as committed at `index`: it must never differ."""
        known = self.committed.setdefault(index, (term, command))
        if known != (term, command):
            raise SafetyViolation(f"state machine safety: {i} has {(term, command)} committed at "
                                  f"{index}, another node {known}")
        if index > self.max_committed:
            self.max_committed = index

    def log(self, i: str, node: Any) -> None:
        """Log matching over node i's log, and its committed prefix never changes."""
        log = node.log
        commit = node.status()["commit"]
        prev_term = log.snapshot.term
        for index in range(log.snapshot_index + 1, log.last_index + 1):
            e = log.entry(index)
            # Log matching: (index, term) identifies the entry and its predecessor.
            key = (index, e.term)
            known = self.entry_ids.setdefault(key, (e.command, prev_term))
            if known != (e.command, prev_term):
                raise SafetyViolation(
                    f"log matching: {i} holds {e.command!r} after term {prev_term} at "
                    f"{key}, another log {known[0]!r} after term {known[1]}")
            prev_term = e.term
            if index <= commit:
                self.learn_committed(i, index, e.term, e.command)

    def leader_completeness(self, i: str, node: Any) -> None:
        """If node i leads, it holds every entry committed in an earlier term."""
        st = node.status()
        if st["role"] != LEADER_ROLE:
            return
        log = node.log
        for index in range(log.snapshot_index + 1, self.max_committed + 1):
            known = self.committed.get(index)
            if known is None or known[0] >= st["term"]:
                continue
            if log.term_at(index) != known[0] or log.entry(index).command != known[1]:
                raise SafetyViolation(
                    f"leader completeness: {i}, leader of term {st['term']}, lacks committed "
                    f"entry {index} {known}")

    def disk_changed(self, index: int) -> None:
        """A disk overwrote or dropped entries from `index` on: check those again."""
        self.durable_to = min(self.durable_to, index - 1)

    def durability(self, disks: Iterable[Disk]) -> None:
        """Every committed entry is on a majority of disks (crashed nodes' too)."""
        disks = list(disks)
        quorum = majority(self.n)
        for index in range(self.durable_to + 1, self.max_committed + 1):
            known = self.committed.get(index)
            if known is None:
                return  # not learned yet: check it (and what follows) next time
            term, command = known
            holders = sum(1 for disk in disks if disk.holds(index, term, command))
            if holders < quorum:
                raise SafetyViolation(
                    f"durability: committed entry {index} {known} is on {holders} of "
                    f"{self.n} disks, not a majority")
            self.durable_to = index
