"""Classic Raft bugs, each one small override of the correct core (`MUTANTS` names them).

`RaftCore(..., Config(mutants={...}))` builds `mutant_class(mutants)`: the chosen mixins
stacked on `RaftCore`. The correct core therefore carries no mutant checks at all, and
adding a bug is one mixin here plus one line in `BUGS` (and its description in
`core.MUTANTS`, which the CLI lists).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from distlab.systems.raft.core import (
    APPEND,
    LEADER,
    MUTANTS,
    SNAPSHOT,
    Entry,
    HardState,
    Message,
    NotLeader,
    RaftCore,
    ReadState,
    Ready,
)


class CommitPreviousTerm(RaftCore):
    """Figure 8: entries of earlier terms are committed by counting replicas."""

    def _can_commit(self, n: int) -> bool:
        return True


class VoteNotPersisted(RaftCore):
    """votedFor never reaches stable storage (the term does)."""

    def ready(self) -> Ready:
        rd = super().ready()
        if rd.hard_state is not None:
            rd.hard_state = HardState(rd.hard_state.term, None)
        return rd


class AcceptStaleAppend(RaftCore):
    """AppendEntries (and InstallSnapshot) from an older term are obeyed, not refused."""

    def step(self, m: Message) -> None:
        if m.term < self.term and m.kind in (APPEND, SNAPSHOT):
            self._step(m)
            return
        super().step(m)


class NoTimerResetOnVote(RaftCore):
    """Granting a vote leaves the election timer running."""

    def _grant_vote(self, candidate: str) -> None:
        self.vote = candidate


class TruncateOnHeartbeat(RaftCore):
    """AppendEntries drops the log after its last entry even when everything matched."""

    def _merge_entries(self, prev: int, entries: list[Entry]) -> int:
        last_new = super()._merge_entries(prev, entries)
        if self.log.last_index > last_new:
            self._truncate(last_new + 1)
        return last_new


class NoFastBackup(RaftCore):
    """A rejection backs nextIndex up by one entry only, ignoring the follower's hint."""

    def _backup_next(self, m: Message) -> int:
        return m.index


class ReadWithoutQuorum(RaftCore):
    """ReadIndex answers at once, without a heartbeat round confirming leadership."""

    def read_index(self, ctx: Any) -> None:
        if self.role != LEADER:
            raise NotLeader(self.leader_id)
        self._read_states.append(ReadState(ctx, self.commit_index))


BUGS: dict[str, type[RaftCore]] = {
    "commit-previous-term": CommitPreviousTerm,
    "vote-not-persisted": VoteNotPersisted,
    "accept-stale-append": AcceptStaleAppend,
    "no-timer-reset-on-vote": NoTimerResetOnVote,
    "truncate-on-heartbeat": TruncateOnHeartbeat,
    "no-fast-backup": NoFastBackup,
    "read-without-quorum": ReadWithoutQuorum,
}
assert set(BUGS) == set(MUTANTS), "every mutant needs a description and a bug"


@cache
def mutant_class(mutants: frozenset[str]) -> type[RaftCore]:
    """RaftCore with the named bugs mixed in (one class per set, built once)."""
    if not mutants:
        return RaftCore
    bases = tuple(BUGS[name] for name in sorted(mutants))
    return type(f"RaftCore[{','.join(sorted(mutants))}]", bases, {})
