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
    TIMEOUT_NOW,
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


class TransferWithoutCatchUp(RaftCore):
    """Leader transfer: TimeoutNow goes out at once, before the target's log has caught
    up; a lagging target then stands with a stale log, and loses."""

    def transfer_leader(self, target: str) -> None:
        if (self.role == LEADER and target in self.progress and target != self.transferee
                and self.progress[target].match < self.log.last_index):
            self.transferee = target
            self._transfer_elapsed = 0
            self._send(Message(TIMEOUT_NOW, self.id, target, self.term))
            return
        super().transfer_leader(target)


class ProposeDuringTransfer(RaftCore):
    """Leader transfer: commands are still taken while the target is being handed over,
    so its log falls behind the leader's again and it loses the election."""

    def propose(self, command: Any) -> int:
        transferee, self.transferee = self.transferee, None
        try:
            return super().propose(command)
        finally:
            self.transferee = transferee


class RepeatedTransferRestartsTimer(RaftCore):
    """Asking again for the transfer under way restarts its deadline: a client retrying
    the request keeps the leader refusing commands for as long as it retries."""

    def transfer_leader(self, target: str) -> None:
        if self.role == LEADER and target == self.transferee:
            self._transfer_elapsed = 0
        super().transfer_leader(target)


class ConcurrentConfChanges(RaftCore):
    """A membership change is started while the previous one is still uncommitted."""

    def _check_conf_change(self, op: str, node: str) -> None:
        pending = self._conf_index
        self._conf_index = min(pending, self.commit_index)  # as if nothing were pending
        try:
            super()._check_conf_change(op, node)
        finally:
            self._conf_index = pending


class RemovedStillCounted(RaftCore):
    """A removed server stays in the leader's progress: it is still sent entries, and its
    acknowledgements still count when the leader decides what is committed."""

    def _load_conf(self) -> None:
        kept = {p: pr for p, pr in self.progress.items()} if self.role == LEADER else {}
        super()._load_conf()
        for p, pr in kept.items():
            if p not in self.progress:
                self.progress[p] = pr
                self.peers.append(p)


BUGS: dict[str, type[RaftCore]] = {
    "commit-previous-term": CommitPreviousTerm,
    "vote-not-persisted": VoteNotPersisted,
    "accept-stale-append": AcceptStaleAppend,
    "no-timer-reset-on-vote": NoTimerResetOnVote,
    "truncate-on-heartbeat": TruncateOnHeartbeat,
    "no-fast-backup": NoFastBackup,
    "read-without-quorum": ReadWithoutQuorum,
    "transfer-without-catch-up": TransferWithoutCatchUp,
    "propose-during-transfer": ProposeDuringTransfer,
    "repeated-transfer-restarts-timer": RepeatedTransferRestartsTimer,
    "concurrent-conf-changes": ConcurrentConfChanges,
    "removed-still-counted": RemovedStillCounted,
}
assert set(BUGS) == set(MUTANTS), "every mutant needs a description and a bug"


@cache
def mutant_class(mutants: frozenset[str]) -> type[RaftCore]:
    """RaftCore with the named bugs mixed in (one class per set, built once)."""
    if not mutants:
        return RaftCore
    bases = tuple(BUGS[name] for name in sorted(mutants))
    return type(f"RaftCore[{','.join(sorted(mutants))}]", bases, {})
