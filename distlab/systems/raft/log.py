"""The replicated log: entries after a snapshot point, with the lookups Raft needs.

Indexes start at 1. Everything at or below `snapshot_index` has been compacted
into the snapshot (Raft paper §7); only its index and term are remembered, which
is all the consistency check (§5.3) ever needs of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Entry:
    """One log entry; `command` is JSON data, or None for a leader's no-op (§8)."""

    index: int
    term: int
    command: Any = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The state machine at `index` (taken after applying the entry of `term` there)."""

    index: int
    term: int
    data: Any = None
    voters: frozenset[str] | None = None  # the configuration at `index` (None: the initial one)


class Log:
    """Entries `snapshot_index + 1 .. last_index`, in memory."""

    def __init__(self, snapshot: Snapshot | None = None, entries: list[Entry] | None = None) -> None:
        self.snapshot = snapshot or Snapshot(0, 0, None)
        self.entries: list[Entry] = []
        for e in entries or []:
            if e.index != self.last_index + 1:
                raise ValueError(f"log entry {e.index} does not follow {self.last_index}")
            self.entries.append(e)

    # ----- lookups --------------------------------------------------------------------
    @property
    def snapshot_index(self) -> int:
        return self.snapshot.index

    @property
    def last_index(self) -> int:
        return self.snapshot.index + len(self.entries)

    @property
    def last_term(self) -> int:
        return self.entries[-1].term if self.entries else self.snapshot.term

    def term_at(self, index: int) -> int | None:
        """The term of the entry at `index`; None if compacted away or beyond the end."""
        if index == self.snapshot.index:
            return self.snapshot.term
        if index < self.snapshot.index or index > self.last_index:
            return None
        return self.entries[index - self.snapshot.index - 1].term

    def entry(self, index: int) -> Entry:
        return self.entries[index - self.snapshot.index - 1]

    def slice(self, lo: int, hi: int) -> list[Entry]:
        """Entries with lo <= index < hi (lo must be above the snapshot)."""
        base = self.snapshot.index + 1
        return self.entries[lo - base : hi - base]

    def matches(self, index: int, term: int) -> bool:
        """The consistency check of AppendEntries (§5.3): do we hold (index, term)?"""
        return self.term_at(index) == term

    def first_index_of_term(self, index: int) -> int:
        """The first index of the run of entries sharing the term at `index` (fast backup)."""
        term = self.term_at(index)
        i = index
        while i - 1 > self.snapshot.index and self.term_at(i - 1) == term:
            i -= 1
        return i

    def last_index_of_term(self, term: int) -> int | None:
        """The last index holding `term`, or None (the leader's half of fast backup)."""
        for e in reversed(self.entries):
            if e.term == term:
                return e.index
            if e.term < term:
                return None
        return self.snapshot.index if self.snapshot.term == term else None

    def is_up_to_date(self, last_index: int, last_term: int) -> bool:
        """Is a log ending at (last_index, last_term) at least as up to date as ours (§5.4.1)?"""
        if last_term != self.last_term:
            return last_term > self.last_term
        return last_index >= self.last_index

    # ----- changes --------------------------------------------------------------------
    def append(self, entry: Entry) -> None:
        if entry.index != self.last_index + 1:
            raise ValueError(f"log entry {entry.index} does not follow {self.last_index}")
        self.entries.append(entry)

    def truncate_from(self, index: int) -> None:
        """Drop every entry at or after `index` (a conflict found by AppendEntries)."""
        del self.entries[index - self.snapshot.index - 1 :]

    def compact(self, snapshot: Snapshot) -> None:
        """Replace the prefix up to `snapshot.index` by the snapshot (§7).

        Entries after it are kept if the log agrees with the snapshot at its
        index; otherwise the whole log is discarded (InstallSnapshot's rule).
        """
        if snapshot.index <= self.snapshot.index:
            return
        if self.term_at(snapshot.index) == snapshot.term:
            self.entries = self.entries[snapshot.index - self.snapshot.index :]
        else:
            self.entries = []
        self.snapshot = snapshot
