"""A tester node's stable storage: exactly what its Ready batches asked to be written.

A restarted node gets back `Disk.persisted()` and nothing else, so a Raft that forgets
to persist its vote or its log shows it by behaviour; the safety invariants also read
disks directly (a committed entry must be on a majority of them).
"""

from __future__ import annotations

from typing import Any

from distlab.systems.raft.core import HardState, Persisted
from distlab.systems.raft.log import Entry, Snapshot


class Disk:
    """A node's stable storage: only what a Ready told the tester to write."""

    def __init__(self) -> None:
        self.hard = HardState()
        self.snapshot: Snapshot | None = None
        self.log: dict[int, Entry] = {}
        self.last = 0

    def persisted(self) -> Persisted:
        """What the node restarts from."""
        first = self.snapshot.index + 1 if self.snapshot else 1
        return Persisted(self.hard, self.snapshot,
                         [self.log[i] for i in range(first, self.last + 1)])

    def size(self) -> int:
        """Stored entries (plus one for a snapshot): what 6.824 bounds in its snapshot tests."""
        first = self.snapshot.index + 1 if self.snapshot else 1
        return max(0, self.last - first + 1) + (1 if self.snapshot else 0)

    def write(self, rd: Any) -> int | None:
        """Store a Ready's hard state, snapshot and entries, and cut the log at its
        `last_index`. Returns the lowest index whose stored entry changed or went (the
        durability check must look at it again), None if nothing stored changed."""
        changed: int | None = None
        if rd.hard_state is not None:
            self.hard = rd.hard_state
        if rd.snapshot is not None:
            self.snapshot = rd.snapshot
            for k in [k for k in self.log if k <= rd.snapshot.index]:
                del self.log[k]
        for e in rd.entries:
            if self.log.get(e.index, e) != e:  # overwritten
                changed = e.index if changed is None else min(changed, e.index)
            self.log[e.index] = e
        if rd.last_index is not None:
            if rd.last_index < self.last:
                cut = rd.last_index + 1
                changed = cut if changed is None else min(changed, cut)
            self.last = rd.last_index
        return changed

    def holds(self, index: int, term: int, command: Any) -> bool:
        """Whether this disk keeps entry `index` (in its log or under its snapshot)."""
        if self.snapshot is not None and self.snapshot.index >= index:
            return True
        if index <= self.last:
            e = self.log.get(index)
            return e is not None and e.term == term and e.command == command
        return False
