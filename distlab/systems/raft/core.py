"""Raft as a pure state machine (Ongaro & Ousterhout, "In Search of an Understandable
Consensus Algorithm", 2014; pre-vote from Ongaro's dissertation, §9.6).

The core owns no clock, socket, thread or randomness. Its inputs are `step(message)`,
`tick()`, `propose(command)`, `read_index(ctx)` and `compact(index, data)`, plus the
persisted state it is built from. Its outputs are collected in a `Ready` batch:

1. write `hard_state`, `entries` / `last_index` and `snapshot` to stable storage and sync;
2. only then send `messages` (a vote or an append acknowledgement depends on step 1);
3. load `restore` into the state machine if set, then apply `committed` in order;
4. answer `read_states` (a linearizable read may be served once the state machine has
   applied up to its index) and retry or fail `dropped_reads`;
5. call `advance(ready)`.

Pre-vote (on by default): a node whose election timer fires first asks for pre-votes
for term+1 without changing its own term; peers grant one only if the candidate's log
is up to date and they have not heard from a leader within the minimum election
timeout. A node cut off by a partition therefore cannot inflate its term and depose a
healthy leader when it comes back. Check-quorum (on by default) makes a leader that
has not heard from a majority for an election timeout step down, so clients are
redirected instead of waiting on a leader that can no longer commit.

Like etcd-io/raft, the core keeps one step and one tick function per role: `step`
applies the rules for all servers (§5.1) and hands the message to `self._step`
(`_step_follower`, `_step_pre_candidate`, `_step_candidate` or `_step_leader`);
`tick` calls `self._tick` (`_tick_election`, or `_tick_heartbeat` on a leader). A role
change swaps both, so no handler asks which role it is in. Majority arithmetic lives in
`quorum.py`.

Membership changes one server at a time (dissertation §4.1): propose
`conf_change("add" | "remove", node)` like a command. A server uses the latest
configuration in its log, committed or not (so a restart rebuilds it from disk; a
snapshot carries the configuration at its index); the leader starts a change only once
the previous one and an entry of its own term are committed, and a leader that removed
itself steps down when that entry commits. `transfer_leader(target)` hands leadership
over (§3.10): proposals pause, the target is caught up and sent TimeoutNow.

`Config.mutants` switches on classic Raft bugs by name (see `MUTANTS`) so a tester can
prove it catches each of them; an empty set is the correct algorithm. The bugs live in
`mutants.py` as subclasses that override one method each: `RaftCore(...)` with mutants
builds one of those, so the correct core's hot path holds no mutant checks.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from distlab.systems.raft.log import Entry, Log, Snapshot
from distlab.systems.raft.quorum import VoteResult, committed_index, majority, vote_result


class Role(StrEnum):
    """A server's role; a str, so `status()["role"] == "leader"` and logs read as before."""

    FOLLOWER = "follower"
    PRE_CANDIDATE = "pre-candidate"
    CANDIDATE = "candidate"
    LEADER = "leader"


FOLLOWER = Role.FOLLOWER
PRE_CANDIDATE = Role.PRE_CANDIDATE
CANDIDATE = Role.CANDIDATE
LEADER = Role.LEADER

PREVOTE = "prevote"
PREVOTE_RESP = "prevote_resp"
VOTE = "vote"
VOTE_RESP = "vote_resp"
APPEND = "append"
APPEND_RESP = "append_resp"
SNAPSHOT = "snapshot"
TIMEOUT_NOW = "timeout_now"  # leader transfer: "campaign now, without waiting or pre-voting"
REQUESTS = frozenset({PREVOTE, VOTE, APPEND, SNAPSHOT})  # what a server of any role answers

MUTANTS: dict[str, str] = {
    "commit-previous-term": "a leader commits entries of earlier terms by counting replicas (Figure 8)",
    "vote-not-persisted": "votedFor is never written to stable storage",
    "accept-stale-append": "AppendEntries from an older term is obeyed",
    "no-timer-reset-on-vote": "granting a vote does not reset the election timer",
    "truncate-on-heartbeat": "AppendEntries truncates the log after its entries even when all match",
    "no-fast-backup": "a rejected AppendEntries backs nextIndex up by one entry only",
    "read-without-quorum": "ReadIndex answers at once, without confirming leadership",
    "transfer-without-catch-up": "a leader transfer sends TimeoutNow at once, before the target's "
                                 "log matches the leader's",
    "propose-during-transfer": "a leader keeps taking commands while it hands leadership over",
    "repeated-transfer-restarts-timer": "asking again for the transfer under way restarts its "
                                        "deadline, so the leader refuses commands while a client "
                                        "retries",
    "concurrent-conf-changes": "a leader starts a membership change while the previous one is "
                               "not committed yet",
    "removed-still-counted": "a leader keeps replicating to a removed server and counts its "
                             "acknowledgements towards the quorum",
}


CONF_ADD = "add"
CONF_REMOVE = "remove"


def conf_change(op: str, node: str) -> dict[str, str]:
    """The command of a membership change (one server added or removed, dissertation §4.1);
    propose it like any command. A plain dict, so it travels in JSON like the others."""
    if op not in (CONF_ADD, CONF_REMOVE):
        raise ValueError(f"a membership change is {CONF_ADD!r} or {CONF_REMOVE!r}, not {op!r}")
    return {"conf_change": op, "node": node}


def as_conf_change(command: Any) -> tuple[str, str] | None:
    """(op, node) if `command` is a membership change, else None."""
    if isinstance(command, dict) and set(command) == {"conf_change", "node"}:
        return command["conf_change"], command["node"]
    return None


class ConfChangeRefused(ValueError):
    """A membership change the leader will not start now (one is in progress, or none of
    its own term has committed yet, or it changes nothing)."""


class NotLeader(Exception):
    """`propose` or `read_index` on a node that is not the leader; `leader` is its best guess."""

    def __init__(self, leader: str | None) -> None:
        super().__init__(f"not the leader (leader: {leader})")
        self.leader = leader


@dataclass(frozen=True, slots=True)
class HardState:
    """What must survive a crash besides the log (Figure 2, "persistent state")."""

    term: int = 0
    vote: str | None = None


@dataclass(slots=True)
class Persisted:
    """The stable state a node restarts from."""

    hard: HardState = field(default_factory=HardState)
    snapshot: Snapshot | None = None
    entries: list[Entry] = field(default_factory=list)


@dataclass(slots=True)
class Message:
    """Every Raft RPC and reply, in one shape (fields unused by a kind stay at 0).

    `index`/`log_term`: prevLogIndex/prevLogTerm (append), lastLogIndex/lastLogTerm
    (votes), the index now known to match (append_resp), or the rejected prevLogIndex.
    `hint_index`/`hint_term`: the follower's conflict information (fast backup).
    `round`: the leader's heartbeat round, echoed back, for ReadIndex.
    """

    kind: str
    src: str
    dest: str
    term: int
    index: int = 0
    log_term: int = 0
    entries: list[Entry] = field(default_factory=list)
    commit: int = 0
    reject: bool = False
    hint_index: int = 0
    hint_term: int = 0
    round: int = 0
    snapshot: Snapshot | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (entries as [term, command]; their indexes follow `index`)."""
        d: dict[str, Any] = {"k": self.kind, "s": self.src, "d": self.dest, "t": self.term}
        for name, key in (("index", "i"), ("log_term", "lt"), ("commit", "c"), ("hint_index", "hi"),
                          ("hint_term", "ht"), ("round", "r")):
            value = getattr(self, name)
            if value:
                d[key] = value
        if self.reject:
            d["x"] = True
        if self.entries:
            d["e"] = [[e.term, e.command] for e in self.entries]
        if self.snapshot is not None:
            s = self.snapshot
            d["sn"] = [s.index, s.term, s.data]
            if s.voters is not None:
                d["sn"].append(sorted(s.voters))
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Message:
        index = d.get("i", 0)
        entries = [Entry(index + 1 + n, t, c) for n, (t, c) in enumerate(d.get("e", ()))]
        sn = d.get("sn")
        return cls(
            d["k"], d["s"], d["d"], d["t"], index, d.get("lt", 0), entries, d.get("c", 0),
            bool(d.get("x")), d.get("hi", 0), d.get("ht", 0), d.get("r", 0),
            Snapshot(sn[0], sn[1], sn[2], frozenset(sn[3]) if len(sn) > 3 else None) if sn else None,
        )


@dataclass(frozen=True, slots=True)
class ReadState:
    """A read that may be served once the state machine has applied `index`."""

    ctx: Any
    index: int


@dataclass(slots=True)
class Ready:
    """One batch of work for the runtime; see the module docstring for the order."""

    hard_state: HardState | None = None
    entries: list[Entry] = field(default_factory=list)
    last_index: int | None = None  # the stored log now ends here (drop stored entries after it)
    snapshot: Snapshot | None = None  # persist; stored entries up to its index may go
    restore: Snapshot | None = None  # the state machine must load this first
    messages: list[Message] = field(default_factory=list)
    committed: list[Entry] = field(default_factory=list)
    read_states: list[ReadState] = field(default_factory=list)
    dropped_reads: list[Any] = field(default_factory=list)


@dataclass
class Config:
    """Timing in ticks; the runtime decides how long a tick is."""

    election_ticks: int = 10  # timeouts are drawn from [election_ticks, 2 * election_ticks)
    heartbeat_ticks: int = 2
    max_entries_per_message: int = 64
    pre_vote: bool = True
    check_quorum: bool = True
    mutants: frozenset[str] = frozenset()
    # The initial configuration, when it is not `peers`: a server joining a running cluster
    # is started with the cluster's voters (itself not among them) and learns the rest
    # from the log. None: every server in `peers` votes.
    voters: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.voters is not None:
            self.voters = frozenset(self.voters)
        unknown = set(self.mutants) - set(MUTANTS)
        if unknown:
            raise ValueError(f"unknown mutants {sorted(unknown)}; choose from {sorted(MUTANTS)}")
        self.mutants = frozenset(self.mutants)


@dataclass(slots=True)
class Progress:
    """The leader's view of one follower (Figure 2, "volatile state on leaders")."""

    next: int
    match: int = 0
    acked_round: int = 0
    recent_active: bool = True


class RaftCore:
    """One Raft server's state machine. Not thread-safe; drive it from one task."""

    def __new__(cls, node_id: str, peers: list[str], rng: random.Random,
                config: Config | None = None, persisted: Persisted | None = None) -> RaftCore:
        """With `config.mutants`, build the subclass carrying those bugs (see mutants.py)."""
        if cls is RaftCore and config is not None and config.mutants:
            from distlab.systems.raft.mutants import mutant_class
            cls = mutant_class(config.mutants)
        return super().__new__(cls)

    def __init__(
        self,
        node_id: str,
        peers: list[str],
        rng: random.Random,
        config: Config | None = None,
        persisted: Persisted | None = None,
    ) -> None:
        self.id = node_id
        self.rng = rng
        self.config = config or Config()
        state = persisted or Persisted()
        self.term = state.hard.term
        self.vote = state.hard.vote
        self.log = Log(state.snapshot, state.entries)
        # Membership (dissertation §4.1): the latest configuration in the log is used,
        # committed or not, so it is rebuilt from what is on disk after a crash.
        self._order = list(peers)  # message order: as given, then servers added later
        initial = self.config.voters if self.config.voters is not None else frozenset(peers) | {node_id}
        snap_voters = self.log.snapshot.voters
        self._conf_base: frozenset[str] = snap_voters if snap_voters is not None else frozenset(initial)
        self.members: frozenset[str] = self._conf_base
        self.peers: list[str] = []
        self._conf_index = 0  # index of the latest membership change in the log (0: none)
        self.role = Role.FOLLOWER
        self._load_conf()
        self._step: Callable[[Message], None] = self._step_follower
        self._tick: Callable[[], None] = self._tick_election
        self._requests: dict[str, Callable[[Message], None]] = {
            PREVOTE: self._on_request_prevote,
            VOTE: self._on_request_vote,
            APPEND: self._on_append_entries,
            SNAPSHOT: self._on_install_snapshot,
            TIMEOUT_NOW: self._on_timeout_now,
        }
        self.leader_id: str | None = None
        self.commit_index = self.log.snapshot_index
        self.applied = self.log.snapshot_index
        self.progress: dict[str, Progress] = {}
        self.votes: dict[str, bool] = {}
        self._elapsed = 0
        self._heartbeat_elapsed = 0
        self._timeout = self._random_timeout()
        # what is already on stable storage / handed out
        self._stable_hard = HardState(self.term, self.vote)
        self._stable_index = self.log.last_index
        self._log_changed = False
        self._snapshot_dirty = False
        self._restore: Snapshot | None = None
        self._messages: list[Message] = []
        self._read_round = 0
        self._pending_reads: list[list[Any]] = []  # [ctx, round, index or None]
        self._read_states: list[ReadState] = []
        self._dropped_reads: list[Any] = []
        self.transferee: str | None = None  # leader transfer in progress: to this peer
        self._transfer_elapsed = 0

    # ----- observation (for runtimes and testers) -------------------------------------
    @property
    def quorum(self) -> int:
        """How many voters make a majority."""
        return majority(len(self.members))

    def status(self) -> dict[str, Any]:
        """Term, role, leader and log positions: what a safety checker looks at."""
        return {
            "id": self.id, "term": self.term, "vote": self.vote, "role": self.role,
            "leader": self.leader_id, "commit": self.commit_index, "applied": self.applied,
            "last_index": self.log.last_index, "last_term": self.log.last_term,
            "snapshot_index": self.log.snapshot_index,
        }

    # ----- inputs ---------------------------------------------------------------------
    def tick(self) -> None:
        """One unit of time: heartbeats for a leader, the election timer for the rest (§5.2)."""
        self._tick()

    def campaign(self) -> None:
        """The election timeout elapsed: start a (pre-)election (§5.2, §9.6)."""
        if self.role == LEADER:
            return
        if self.id not in self.members:
            self._reset_timer()  # not a voter (yet, or any more): never stands
            return
        if self.config.pre_vote:
            self._become_pre_candidate()
        else:
            self._become_candidate()

    def propose(self, command: Any) -> int:
        """Append a client command to the leader's log (§5.3); returns its index."""
        if self.role != LEADER:
            raise NotLeader(self.leader_id)
        if self.transferee is not None:
            # a command appended now could leave the transferee's log behind, and it would
            # then lose the election the transfer is for
            raise NotLeader(self.transferee)
        change = as_conf_change(command)
        if change is not None:
            self._check_conf_change(*change)
        entry = Entry(self.log.last_index + 1, self.term, command)
        self.log.append(entry)
        if change is not None:
            self._load_conf()
        self._broadcast_append()
        self._maybe_commit()
        return entry.index

    def read_index(self, ctx: Any) -> None:
        """Ask for a linearizable read point (§6.4): a ReadState(ctx, index) comes out
        once a majority has confirmed this node is still the leader, or ctx is dropped."""
        if self.role != LEADER:
            raise NotLeader(self.leader_id)
        committed_in_term = self.log.term_at(self.commit_index) == self.term
        self._read_round += 1
        self._pending_reads.append([ctx, self._read_round, self.commit_index if committed_in_term else None])
        if self.peers:
            self._broadcast_append()
        self._release_reads()

    def transfer_leader(self, target: str) -> None:
        """Hand leadership to `target` (dissertation §3.10): stop taking proposals, bring
        its log up to date, then tell it to campaign at once (TimeoutNow); its higher term
        deposes this leader. Given up after an election timeout if `target` never catches
        up or never wins, and proposals are taken again. Used to move a leader off a node
        about to be drained or removed, without waiting for an election timeout.
        `target` = this node cancels a pending transfer; asking again for the transfer
        under way changes nothing (TinyKV's TestLeaderTransferBack3A and etcd's
        TestLeaderTransferSecondTransferToSameNode)."""
        if self.role != LEADER:
            raise NotLeader(self.leader_id)
        if target == self.id:
            self.transferee = None  # to itself: nothing to do, and a pending transfer is off
            return
        if target not in self.progress or target not in self.members:
            raise ValueError(f"{target!r} is not a peer of {self.id!r}")
        if target == self.transferee:
            return  # already under way: a repeated request must not extend its deadline
        self.transferee = target
        self._transfer_elapsed = 0
        if self.progress[target].match == self.log.last_index:
            self._send(Message(TIMEOUT_NOW, self.id, target, self.term))
        else:
            self._send_append(target)

    def compact(self, index: int, data: Any) -> None:
        """The state machine's snapshot at applied `index` replaces the log up to it (§7)."""
        if index <= self.log.snapshot_index:
            return
        if index > self.applied:
            raise ValueError(f"cannot snapshot at {index}: only {self.applied} applied")
        term = self.log.term_at(index)
        assert term is not None
        self.log.compact(Snapshot(index, term, data, self._voters_at(index)))
        self._load_conf()
        self._snapshot_dirty = True

    def step(self, m: Message) -> None:
        """Handle one incoming message; the rules for all servers come first (§5.1)."""
        if m.term > self.term:
            if m.kind == PREVOTE or (m.kind == PREVOTE_RESP and not m.reject):
                pass  # a pre-vote asks about a term nobody has entered yet
            else:
                # A vote request alone must not restart the election timer (only a granted
                # vote does): else candidates with stale logs, timing out in turn, keep the
                # up-to-date nodes from ever standing, and no leader is elected.
                self._become_follower(m.term, m.src if m.kind in (APPEND, SNAPSHOT) else None,
                                      reset_timer=m.kind != VOTE)
        elif m.term < self.term:
            if m.kind in REQUESTS:
                # tell a stale leader or candidate about the newer term (it steps down)
                kind = {VOTE: VOTE_RESP, PREVOTE: PREVOTE_RESP}.get(m.kind, APPEND_RESP)
                self._send(Message(kind, self.id, m.src, self.term, index=m.index, reject=True))
            return  # a reply from an older term is stale
        self._step(m)

    # ----- per-role step and tick (etcd-io/raft's stepLeader / tickHeartbeat shape) -----
    def _on_request(self, m: Message) -> None:
        """Requests are answered in every role; a reply meant for another role is stale."""
        handler = self._requests.get(m.kind)
        if handler is not None:
            handler(m)
        elif m.kind not in (PREVOTE_RESP, VOTE_RESP, APPEND_RESP):
            raise ValueError(f"unknown message kind {m.kind!r}")

    def _step_follower(self, m: Message) -> None:
        self._on_request(m)

    def _step_pre_candidate(self, m: Message) -> None:
        if m.kind == PREVOTE_RESP:
            self._on_prevote_reply(m)
        else:
            self._on_request(m)

    def _step_candidate(self, m: Message) -> None:
        if m.kind == VOTE_RESP:
            self._on_vote_reply(m)
        else:
            self._on_request(m)

    def _step_leader(self, m: Message) -> None:
        if m.kind == APPEND_RESP:
            self._on_append_reply(m)
        else:
            self._on_request(m)

    def _tick_election(self) -> None:
        """Followers and candidates: campaign when the election timer runs out (§5.2)."""
        self._elapsed += 1
        if self._elapsed >= self._timeout:
            self.campaign()

    def _tick_heartbeat(self) -> None:
        """The leader: a heartbeat round every heartbeat_ticks, check-quorum every
        election_ticks."""
        self._elapsed += 1
        self._heartbeat_elapsed += 1
        if self._heartbeat_elapsed >= self.config.heartbeat_ticks:
            self._heartbeat_elapsed = 0
            self._broadcast_append()
        if self.transferee is not None:
            self._transfer_elapsed += 1
            if self._transfer_elapsed >= self.config.election_ticks:
                self.transferee = None  # the target did not take over: lead on
        if self._elapsed >= self.config.election_ticks:
            self._elapsed = 0
            self._check_quorum()

    _STEPS = {Role.FOLLOWER: "_step_follower", Role.PRE_CANDIDATE: "_step_pre_candidate",
              Role.CANDIDATE: "_step_candidate", Role.LEADER: "_step_leader"}

    def _set_role(self, role: Role) -> None:
        """Enter `role`: its step and tick functions replace the previous role's."""
        self.role = role
        self.transferee = None
        self._step = getattr(self, self._STEPS[role])
        self._tick = self._tick_heartbeat if role is Role.LEADER else self._tick_election

    # ----- outputs --------------------------------------------------------------------
    def has_ready(self) -> bool:
        return bool(
            self._messages or self._read_states or self._dropped_reads or self._log_changed
            or self._snapshot_dirty or self._restore is not None
            or self._stable_index < self.log.last_index
            or self.commit_index > self.applied
            or self._stable_hard != HardState(self.term, self.vote)
        )

    def ready(self) -> Ready:
        """Everything to persist, send and apply since the last `advance`."""
        rd = Ready()
        hard = HardState(self.term, self.vote)
        if hard != self._stable_hard:
            rd.hard_state = hard
        lo = max(self._stable_index, self.log.snapshot_index) + 1
        rd.entries = self.log.slice(lo, self.log.last_index + 1)
        if rd.entries or self._log_changed:
            rd.last_index = self.log.last_index
        if self._snapshot_dirty:
            rd.snapshot = self.log.snapshot
        rd.restore = self._restore
        rd.messages = self._messages
        first = max(self.applied, self.log.snapshot_index) + 1
        rd.committed = self.log.slice(first, self.commit_index + 1)
        rd.read_states = self._read_states
        rd.dropped_reads = self._dropped_reads
        self._messages, self._read_states, self._dropped_reads = [], [], []
        return rd

    def advance(self, rd: Ready) -> None:
        """The runtime has persisted, sent and applied `rd`."""
        self._stable_hard = HardState(self.term, self.vote)
        if rd.last_index is not None:
            self._stable_index = rd.last_index
        self._log_changed = False
        if rd.snapshot is not None:
            self._snapshot_dirty = False
        if rd.restore is not None:
            self.applied = max(self.applied, rd.restore.index)
            if self._restore is rd.restore:
                self._restore = None
        if rd.committed:
            self.applied = max(self.applied, rd.committed[-1].index)

    # ----- role changes (§5.2) --------------------------------------------------------
    def _random_timeout(self) -> int:
        e = self.config.election_ticks
        return e + self.rng.randrange(e)

    def _reset_timer(self) -> None:
        self._elapsed = 0
        self._timeout = self._random_timeout()

    def _become_follower(self, term: int, leader: str | None, reset_timer: bool = True) -> None:
        if term > self.term:
            self.term = term
            self.vote = None
        if self.role == LEADER and not reset_timer:
            self._elapsed = 0  # a leader's elapsed counted towards check-quorum, not elections
        self._set_role(Role.FOLLOWER)
        self.leader_id = leader
        if reset_timer:
            self._reset_timer()
        self._drop_reads()

    def _become_pre_candidate(self) -> None:
        self._set_role(Role.PRE_CANDIDATE)
        self.leader_id = None
        self.votes = {self.id: True}
        self._reset_timer()
        self._drop_reads()
        if self._tally() is VoteResult.WON:
            self._become_candidate()
            return
        for peer in self.peers:
            self._send(Message(PREVOTE, self.id, peer, self.term + 1,
                               index=self.log.last_index, log_term=self.log.last_term))

    def _become_candidate(self) -> None:
        self.term += 1
        self.vote = self.id
        self._set_role(Role.CANDIDATE)
        self.leader_id = None
        self.votes = {self.id: True}
        self._reset_timer()
        self._drop_reads()
        if self._tally() is VoteResult.WON:
            self._become_leader()
            return
        for peer in self.peers:
            self._send(Message(VOTE, self.id, peer, self.term,
                               index=self.log.last_index, log_term=self.log.last_term))

    # ----- membership (dissertation §4.1: one server at a time) -------------------------
    def _voters_at(self, index: int) -> frozenset[str]:
        """The configuration in force once the log up to `index` is taken into account."""
        voters = set(self._conf_base)
        for e in self.log.slice(self.log.snapshot_index + 1, index + 1):
            change = as_conf_change(e.command)
            if change is not None:
                op, node = change
                if op == CONF_ADD:
                    voters.add(node)
                else:
                    voters.discard(node)
        return frozenset(voters)

    def _load_conf(self) -> None:
        """Take the latest configuration in the log (after an append, a truncation, a
        snapshot or a restart); a leader starts or stops replicating to the servers
        added or removed."""
        if self.log.snapshot.voters is not None:
            self._conf_base = self.log.snapshot.voters
        self._conf_index = 0
        for e in self.log.slice(self.log.snapshot_index + 1, self.log.last_index + 1):
            if as_conf_change(e.command) is not None:
                self._conf_index = e.index
        self.members = self._voters_at(self.log.last_index)
        for node in sorted(self.members):
            if node not in self._order:
                self._order.append(node)
        self.peers = [p for p in self._order if p in self.members and p != self.id]
        if self.role == LEADER:
            for p in self.peers:
                if p not in self.progress:
                    self.progress[p] = Progress(next=self.log.last_index + 1)
            for p in list(self.progress):
                if p not in self.members:
                    del self.progress[p]

    def _check_conf_change(self, op: str, node: str) -> None:
        """Start a change only when it is safe: the previous one is committed (so no two
        configurations more than one server apart are ever in use at once), and an entry
        of this leader's term is committed (Ongaro's 2015 correction: else a change from
        an earlier term, not yet committed, could be overtaken by this one)."""
        if self._conf_index > self.commit_index:
            raise ConfChangeRefused(f"the membership change at index {self._conf_index} is not "
                                    "committed yet: one change at a time")
        if self.log.term_at(self.commit_index) != self.term:
            raise ConfChangeRefused("no entry of the leader's term is committed yet")
        if op == CONF_ADD and node in self.members:
            raise ConfChangeRefused(f"{node} is already a voter")
        if op == CONF_REMOVE and node not in self.members:
            raise ConfChangeRefused(f"{node} is not a voter")
        if op == CONF_REMOVE and len(self.members) == 1:
            raise ConfChangeRefused(f"{node} is the last voter")

    def _become_leader(self) -> None:
        """Win an election: reset progress and append a no-op of the new term (§5.2, §8)."""
        self._set_role(Role.LEADER)
        self.leader_id = self.id
        self._elapsed = 0
        self._heartbeat_elapsed = 0
        self.progress = {p: Progress(next=self.log.last_index + 1) for p in self.peers}
        self.log.append(Entry(self.log.last_index + 1, self.term, None))
        self._broadcast_append()
        self._maybe_commit()

    def _tally(self) -> VoteResult:
        """Only the votes of the current configuration count."""
        votes = {k: v for k, v in self.votes.items() if k in self.members}
        return vote_result(votes, len(self.members))

    def _check_quorum(self) -> None:
        """A leader that has not heard from a majority for an election timeout steps down."""
        if not self.config.check_quorum:
            return
        active = (self.id in self.members) + sum(1 for pr in self.progress.values() if pr.recent_active)
        for pr in self.progress.values():
            pr.recent_active = False
        if active < self.quorum:
            self._become_follower(self.term, None)

    # ----- RequestVote (§5.2, §5.4.1) and pre-vote (§9.6) -----------------------------
    def _on_request_prevote(self, m: Message) -> None:
        heard_from_leader = self.leader_id is not None and self._elapsed < self.config.election_ticks
        grant = (
            m.term > self.term
            and not heard_from_leader
            and self.log.is_up_to_date(m.index, m.log_term)
        )
        self._send(Message(PREVOTE_RESP, self.id, m.src, m.term if grant else self.term,
                           reject=not grant))

    def _on_prevote_reply(self, m: Message) -> None:
        self.votes[m.src] = not m.reject
        result = self._tally()
        if result is VoteResult.WON:
            self._become_candidate()
        elif result is VoteResult.LOST:
            self._become_follower(self.term, None)

    def _on_request_vote(self, m: Message) -> None:
        """Grant at most one vote per term, and only to an up-to-date log (§5.2, §5.4.1)."""
        grant = (
            m.term == self.term
            and self.vote in (None, m.src)
            and self.log.is_up_to_date(m.index, m.log_term)
        )
        if grant:
            self._grant_vote(m.src)
        self._send(Message(VOTE_RESP, self.id, m.src, self.term, reject=not grant))

    def _grant_vote(self, candidate: str) -> None:
        """Record the vote and restart the election timer: a voter gives the candidate
        a full timeout to win before standing itself (§5.2)."""
        self.vote = candidate
        self._reset_timer()

    def _on_vote_reply(self, m: Message) -> None:
        if m.term != self.term:
            return
        self.votes[m.src] = not m.reject
        result = self._tally()
        if result is VoteResult.WON:
            self._become_leader()
        elif result is VoteResult.LOST:
            self._become_follower(self.term, None)

    # ----- AppendEntries (§5.3) -------------------------------------------------------
    def _on_append_entries(self, m: Message) -> None:
        """The receiver's rules of Figure 2, with the follower's half of fast backup."""
        if m.term == self.term:
            if self.role != FOLLOWER or self.leader_id != m.src:
                self._become_follower(m.term, m.src)
            self._elapsed = 0
        prev, prev_term, entries = m.index, m.log_term, m.entries
        if prev < self.commit_index:
            # Our committed prefix is in every later leader's log (Leader Completeness):
            # skip the part of the message that covers it.
            skip = self.commit_index - prev
            if skip >= len(entries):
                self._reply_append(m, self.commit_index)
                return
            entries = entries[skip:]
            prev = self.commit_index
            prev_term = self.log.term_at(prev) or 0
        if not self.log.matches(prev, prev_term):
            self._reject_append(m, prev)
            return
        last_new = self._merge_entries(prev, entries)
        if m.commit > self.commit_index:
            self.commit_index = max(self.commit_index, min(m.commit, last_new))
        self._reply_append(m, last_new)

    def _merge_entries(self, prev: int, entries: list[Entry]) -> int:
        """Append what is new after `prev`, dropping a conflicting suffix first (Figure 2,
        receiver rules 3 and 4); entries past the message's that match stay. Returns the
        last index the message vouches for."""
        for n, e in enumerate(entries):
            term = self.log.term_at(e.index)
            if term == e.term:
                continue
            truncated = term is not None
            if truncated:  # a conflict: drop it and everything after it
                self._truncate(e.index)
            for new in entries[n:]:
                self.log.append(new)
            if (truncated and self._conf_index >= e.index) or any(
                    as_conf_change(x.command) is not None for x in entries[n:]):
                self._load_conf()
            break
        return prev + len(entries)

    def _truncate(self, index: int) -> None:
        self.log.truncate_from(index)
        self._stable_index = min(self._stable_index, index - 1)
        self._log_changed = True

    def _reply_append(self, m: Message, match: int) -> None:
        self._send(Message(APPEND_RESP, self.id, m.src, self.term, index=match, round=m.round))

    def _reject_append(self, m: Message, prev: int) -> None:
        """Say where our log diverges: the first index of the conflicting term, or our end."""
        if prev > self.log.last_index:
            hint_index, hint_term = self.log.last_index + 1, 0
        else:
            hint_term = self.log.term_at(prev) or 0
            hint_index = self.log.first_index_of_term(prev)
        self._send(Message(APPEND_RESP, self.id, m.src, self.term, index=prev, reject=True,
                           hint_index=hint_index, hint_term=hint_term, round=m.round))

    def _on_append_reply(self, m: Message) -> None:
        """The leader's rules: advance matchIndex and commit, or back nextIndex up."""
        pr = self.progress.get(m.src)
        if pr is None:
            return
        pr.recent_active = True
        if m.round > pr.acked_round:
            pr.acked_round = m.round
            self._release_reads()
        if not m.reject:
            if m.index > pr.match:
                pr.match = m.index
                pr.next = max(pr.next, m.index + 1)
                self._maybe_commit()
            if pr.next <= self.log.last_index:
                self._send_append(m.src)
            elif m.src == self.transferee and pr.match == self.log.last_index:
                self._send(Message(TIMEOUT_NOW, self.id, m.src, self.term))
            return
        if m.index < pr.match:
            return  # a rejection of an old probe, already superseded
        pr.next = max(pr.match + 1, min(self._backup_next(m), m.index, pr.next))
        self._send_append(m.src)

    def _backup_next(self, m: Message) -> int:
        """Where nextIndex goes after a rejection: past the leader's last entry of the
        follower's conflicting term, or the follower's hint (fast backup, §5.3)."""
        if m.hint_term:
            last = self.log.last_index_of_term(m.hint_term)
            return last + 1 if last is not None else m.hint_index
        return m.hint_index

    def _maybe_commit(self) -> None:
        """Commit the highest index a majority holds, if it is of the current term (§5.4.2)."""
        matches = [pr.match for pr in self.progress.values()]
        if self.id in self.members:
            matches.append(self.log.last_index)
        if not matches:
            return
        n = committed_index(matches)
        if n <= self.commit_index or not self._can_commit(n):
            return
        self.commit_index = n
        if self.id not in self.members and self.commit_index >= self._conf_index:
            # its own removal is committed: the cluster goes on without it (§4.2.2)
            self._become_follower(self.term, None)
            return
        if self.log.term_at(n) == self.term:
            for read in self._pending_reads:
                if read[2] is None:
                    read[2] = n
            self._release_reads()

    def _can_commit(self, n: int) -> bool:
        """Only an entry of the leader's own term is committed by counting replicas;
        earlier ones follow it (Figure 8)."""
        return self.log.term_at(n) == self.term

    def _broadcast_append(self) -> None:
        for peer in self.peers:
            self._send_append(peer)

    def _send_append(self, peer: str) -> None:
        """Send what the follower is missing from nextIndex on (optimistically pipelined)."""
        pr = self.progress[peer]
        if pr.next <= self.log.snapshot_index:
            self._send(Message(SNAPSHOT, self.id, peer, self.term, snapshot=self.log.snapshot,
                               round=self._read_round))
            pr.next = self.log.snapshot_index + 1
            return
        prev = pr.next - 1
        hi = min(self.log.last_index + 1, pr.next + self.config.max_entries_per_message)
        entries = self.log.slice(pr.next, hi)
        self._send(Message(APPEND, self.id, peer, self.term, index=prev,
                           log_term=self.log.term_at(prev) or 0, entries=entries,
                           commit=self.commit_index, round=self._read_round))
        pr.next = prev + len(entries) + 1

    # ----- InstallSnapshot (§7) -------------------------------------------------------
    def _on_install_snapshot(self, m: Message) -> None:
        if self.role != FOLLOWER or self.leader_id != m.src:
            self._become_follower(m.term, m.src)
        self._elapsed = 0
        snap = m.snapshot
        assert snap is not None
        if snap.index <= self.commit_index:
            self._reply_append(m, self.commit_index)
            return
        kept = self.log.term_at(snap.index) == snap.term
        self.log.compact(snap)
        if not kept:
            self._stable_index = min(self._stable_index, snap.index)
            self._log_changed = True
        self._load_conf()
        self._snapshot_dirty = True
        self._restore = snap
        self.commit_index = snap.index
        self._reply_append(m, snap.index)

    # ----- leader transfer (dissertation §3.10) ---------------------------------------
    def _on_timeout_now(self, m: Message) -> None:
        """The leader says our log is as long as its own: stand for election right away.
        No pre-vote: the leader asked for this, and pre-vote would be refused by peers
        that have just heard from it."""
        if self.role == LEADER or self.id not in self.members:
            return
        self._become_candidate()

    # ----- ReadIndex (§6.4) -----------------------------------------------------------
    def _release_reads(self) -> None:
        if not self._pending_reads:
            return
        acked = [pr.acked_round for pr in self.progress.values()]
        if self.id in self.members:
            acked.append(self._read_round)
        if not acked:
            return
        confirmed = committed_index(acked)
        while self._pending_reads:
            ctx, rnd, index = self._pending_reads[0]
            if rnd > confirmed or index is None:
                break
            self._pending_reads.pop(0)
            self._read_states.append(ReadState(ctx, index))

    def _drop_reads(self) -> None:
        self._dropped_reads.extend(r[0] for r in self._pending_reads)
        self._pending_reads = []

    def _send(self, m: Message) -> None:
        self._messages.append(m)
