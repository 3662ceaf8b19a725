"""The Raft core driven by an in-memory router: no simulator, no SDK, every message by hand.

Tests are named after the rules of the Raft paper they exercise. The `Cluster`
harness checks Raft's safety properties after every step (election safety, log
matching, leader completeness, state machine safety; committed entries never
change) and raises `SafetyViolation` the moment one breaks.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.systems.raft import (
    LEADER,
    Config,
    Entry,
    HardState,
    Message,
    Persisted,
    RaftCore,
)
from distlab.systems.raft.core import APPEND, APPEND_RESP, SNAPSHOT, VOTE, VOTE_RESP
from distlab.systems.raft.tester import Disk, SafetyViolation


class Cluster:
    """N cores, their disks and state machines, and the messages in flight between them."""

    def __init__(self, n: int, seed: int = 0, config: Config | None = None,
                 snapshot_every: int | None = None) -> None:
        self.ids = [f"s{i}" for i in range(n)]
        self.seed = seed
        self.config = config or Config()
        self.snapshot_every = snapshot_every
        self.disks = {i: Disk() for i in self.ids}
        self.cores: dict[str, RaftCore | None] = {}
        self.machines: dict[str, list[Any]] = {}
        self.incarnation = dict.fromkeys(self.ids, 0)
        self.inflight: list[Message] = []
        self.delivered: list[Message] = []
        self.leaders: dict[int, str] = {}
        self.committed: dict[int, tuple[int, Any]] = {}
        self.blocked: set[str] = set()  # nodes cut off from everyone
        for i in self.ids:
            self.start(i)

    # ----- lifecycle ------------------------------------------------------------------
    def start(self, i: str) -> None:
        self.incarnation[i] += 1
        rng = random.Random(f"{self.seed}/{i}/{self.incarnation[i]}")
        disk = self.disks[i]
        self.cores[i] = RaftCore(i, self.ids, rng, self.config, disk.persisted())
        self.machines[i] = list(disk.snapshot.data) if disk.snapshot else []

    def crash(self, i: str) -> None:
        self.cores[i] = None

    def core(self, i: str) -> RaftCore:
        c = self.cores[i]
        assert c is not None, f"{i} is down"
        return c

    def live(self) -> list[RaftCore]:
        return [c for c in self.cores.values() if c is not None]

    def leader(self) -> RaftCore | None:
        leaders = [c for c in self.live() if c.role == LEADER]
        return max(leaders, key=lambda c: c.term) if leaders else None

    # ----- driving --------------------------------------------------------------------
    def pump(self, i: str) -> None:
        """Persist, send, apply, advance: the contract of Ready, then the safety checks."""
        c = self.cores[i]
        if c is None:
            return
        disk = self.disks[i]
        while c.has_ready():
            rd = c.ready()
            if rd.hard_state is not None:
                disk.hard = rd.hard_state
            if rd.snapshot is not None:
                disk.snapshot = rd.snapshot
            for e in rd.entries:
                disk.log[e.index] = e
            if rd.last_index is not None:
                disk.last = rd.last_index
            self.inflight.extend(rd.messages)
            if rd.restore is not None:
                self.machines[i] = list(rd.restore.data)
            for e in rd.committed:
                self._committed(i, e)
                if e.command is not None:
                    self.machines[i].append(e.command)
            c.advance(rd)
            if self.snapshot_every and c.applied - c.log.snapshot_index >= self.snapshot_every:
                c.compact(c.applied, list(self.machines[i]))
        self.check()

    def tick(self, i: str, n: int = 1) -> None:
        for _ in range(n):
            if self.cores[i] is not None:
                self.core(i).tick()
                self.pump(i)

    def deliver(self, k: int = 0, keep: bool = False) -> None:
        """Deliver in-flight message k (keep: leave a copy behind, a duplicate)."""
        m = self.inflight[k] if keep else self.inflight.pop(k)
        if m.src in self.blocked or m.dest in self.blocked or self.cores[m.dest] is None:
            return
        self.delivered.append(m)
        self.core(m.dest).step(m)
        self.pump(m.dest)

    def flush(self, allowed: Iterable[str] | None = None,
              edit: Callable[[Message], Message | None] | None = None, limit: int = 10_000) -> None:
        """Deliver everything in order among `allowed` (others' messages are dropped)."""
        ok = set(self.ids if allowed is None else allowed)
        for _ in range(limit):
            if not self.inflight:
                return
            m = self.inflight.pop(0)
            if m.src not in ok or m.dest not in ok:
                continue
            if edit is not None:
                edited = edit(m)
                if edited is None:
                    continue
                m = edited
            self.inflight.insert(0, m)
            self.deliver(0)
        raise AssertionError("messages never stopped flowing")

    def elect(self, i: str, allowed: Iterable[str] | None = None, tries: int = 5) -> RaftCore:
        """Make `i` campaign, with only `allowed` nodes reachable, until it leads."""
        ok = set(self.ids if allowed is None else allowed) | {i}
        for j in ok:  # their leader has been silent for an election timeout (pre-vote's lease)
            core = self.cores[j]
            if core is not None and core.role != LEADER:
                core.leader_id = None
        for _ in range(tries):
            self.core(i).campaign()
            self.pump(i)
            for _ in range(10_000):
                if self.core(i).role == LEADER or not self.inflight:
                    break
                m = self.inflight.pop(0)
                if m.src in ok and m.dest in ok:
                    self.inflight.insert(0, m)
                    self.deliver(0)
            if self.core(i).role == LEADER:
                return self.core(i)
        raise AssertionError(f"{i} could not win an election among {sorted(ok)}")

    def drop_from(self, i: str) -> None:
        self.inflight = [m for m in self.inflight if m.src != i]

    def propose(self, command: Any) -> bool:
        leader = self.leader()
        if leader is None:
            return False
        leader.propose(command)
        self.pump(leader.id)
        return True

    # ----- safety (Figure 3) ----------------------------------------------------------
    def _committed(self, i: str, e: Entry) -> None:
        known = self.committed.setdefault(e.index, (e.term, e.command))
        if known != (e.term, e.command):
            raise SafetyViolation(
                f"state machine safety: {i} has {(e.term, e.command)} committed at {e.index}, "
                f"another node {known}"
            )

    def check(self) -> None:
        live = self.live()
        for c in live:
            # Election Safety: at most one leader per term.
            if c.role == LEADER and self.leaders.setdefault(c.term, c.id) != c.id:
                raise SafetyViolation(f"two leaders in term {c.term}: {self.leaders[c.term]}, {c.id}")
            # Committed entries never change (and agree everywhere).
            for e in c.log.slice(c.log.snapshot_index + 1, c.commit_index + 1):
                self._committed(c.id, e)
        # Leader Completeness: a leader holds every entry committed in an earlier term.
        for c in live:
            if c.role != LEADER:
                continue
            for index, (term, command) in self.committed.items():
                if term < c.term and index > c.log.snapshot_index:
                    if c.log.term_at(index) != term or c.log.entry(index).command != command:
                        raise SafetyViolation(
                            f"leader completeness: leader {c.id} of term {c.term} lacks "
                            f"committed entry {index} {(term, command)}"
                        )
        # Log Matching: same index and term => identical logs up to there.
        for a_i, a in enumerate(live):
            for b in live[a_i + 1 :]:
                lo = max(a.log.snapshot_index, b.log.snapshot_index) + 1
                hi = min(a.log.last_index, b.log.last_index)
                agree = None
                for index in range(hi, lo - 1, -1):
                    if a.log.term_at(index) == b.log.term_at(index):
                        agree = index
                        break
                if agree is None:
                    continue
                for index in range(lo, agree + 1):
                    if a.log.entry(index) != b.log.entry(index):
                        raise SafetyViolation(
                            f"log matching: {a.id} and {b.id} agree at {agree} but differ at {index}"
                        )

    def settle(self, rounds: int = 400) -> None:
        """A healed network: tick everyone and deliver everything until quiet."""
        for _ in range(rounds):
            for i in self.ids:
                self.tick(i)
            self.flush()


def count(msgs: list[Message], kind: str, dest: str | None = None, reject: bool | None = None) -> int:
    return sum(
        1 for m in msgs
        if m.kind == kind and (dest is None or m.dest == dest) and (reject is None or m.reject == reject)
    )


# ----- §5.2 leader election ----------------------------------------------------------
@pytest.mark.parametrize("n", [1, 3, 5])
def test_5_2_initial_election_elects_exactly_one_leader(n: int) -> None:
    c = Cluster(n, seed=n)
    c.settle(rounds=40)
    leaders = [x for x in c.live() if x.role == LEADER]
    assert len(leaders) == 1
    terms = {x.term for x in c.live()}
    assert terms == {leaders[0].term}
    assert all(x.leader_id == leaders[0].id for x in c.live())


def test_5_2_reelection_after_leader_crash() -> None:
    c = Cluster(5, seed=7)
    c.settle(rounds=40)
    old = c.leader()
    assert old is not None
    c.crash(old.id)
    c.settle(rounds=60)
    new = c.leader()
    assert new is not None and new.id != old.id and new.term > old.term


def test_5_2_vote_is_persisted_in_the_same_ready_as_the_reply() -> None:
    """A granted vote must reach stable storage before the reply leaves (Figure 2)."""
    voter = RaftCore("s1", ["s0", "s1", "s2"], random.Random(1))
    voter.step(Message(VOTE, "s0", "s1", term=1, index=0, log_term=0))
    rd = voter.ready()
    assert rd.hard_state == HardState(1, "s0")
    assert [(m.kind, m.reject) for m in rd.messages] == [(VOTE_RESP, False)]


def test_5_4_1_vote_denied_to_a_less_up_to_date_log() -> None:
    voter = RaftCore("s1", ["s0", "s1", "s2"], random.Random(1),
                     persisted=Persisted(HardState(2, None), None, [Entry(1, 1), Entry(2, 2)]))
    voter.step(Message(VOTE, "s0", "s1", term=3, index=5, log_term=1))
    rd = voter.ready()
    assert rd.messages[0].reject and voter.vote is None and voter.term == 3


def test_9_6_prevote_keeps_a_rejoining_node_from_deposing_the_leader() -> None:
    for pre_vote, disrupted in ((True, False), (False, True)):
        c = Cluster(3, seed=3, config=Config(pre_vote=pre_vote))
        c.settle(rounds=40)
        leader = c.leader()
        assert leader is not None
        term = leader.term
        follower = next(i for i in c.ids if i != leader.id)
        c.blocked = {follower}
        c.settle(rounds=100)  # the isolated node's timer fires again and again
        c.blocked = set()
        c.settle(rounds=60)
        assert (c.core(leader.id).term != term) is disrupted, f"pre_vote={pre_vote}"


# ----- §5.3 log replication ----------------------------------------------------------
def test_5_3_basic_agree_replicates_and_applies_everywhere() -> None:
    c = Cluster(5, seed=11)
    c.settle(rounds=40)
    for k in range(10):
        assert c.propose(f"x{k}")
        c.flush()
    c.settle(rounds=5)
    for i in c.ids:
        assert c.machines[i] == [f"x{k}" for k in range(10)]


def _divergent_cluster(config: Config) -> Cluster:
    """s0 led term t and appended 50 entries nobody got; s1 then led with 50 others."""
    c = Cluster(3, seed=5, config=config)
    c.elect("s0")
    c.flush()
    for k in range(50):
        c.core("s0").propose(f"lost{k}")
    c.pump("s0")
    c.drop_from("s0")
    c.crash("s0")
    c.elect("s1", ["s1", "s2"])
    for k in range(50):
        c.propose(f"kept{k}")
    c.flush(["s1", "s2"])
    c.start("s0")
    c.delivered.clear()
    return c


def test_5_3_fast_backup_finds_the_divergence_in_few_round_trips() -> None:
    fast = _divergent_cluster(Config())
    fast.settle(rounds=10)
    slow = _divergent_cluster(Config(mutants=frozenset({"no-fast-backup"})))
    slow.settle(rounds=10)
    for c in (fast, slow):
        assert c.machines["s0"] == [f"kept{k}" for k in range(50)]
    fast_rejects = count(fast.delivered, APPEND_RESP, dest="s1", reject=True)
    slow_rejects = count(slow.delivered, APPEND_RESP, dest="s1", reject=True)
    assert fast_rejects <= 2 < 40 <= slow_rejects


# ----- §5.4.2 committing entries from previous terms (Figure 8) ----------------------
def _figure_8(mutants: frozenset[str]) -> Cluster:
    c = Cluster(5, seed=8, config=Config(mutants=mutants))
    s0 = c.elect("s0")
    c.propose("a")
    c.flush()
    # (a) s0 replicates "b" to s1 only, then crashes.
    s0.propose("b")
    c.pump("s0")
    c.flush(["s0", "s1"])
    b_index = s0.log.last_index
    c.crash("s0")
    # (b) s4 wins with s2 and s3, appends its no-op locally only, and crashes.
    c.elect("s4", ["s2", "s3", "s4"])
    c.drop_from("s4")
    c.crash("s4")
    # (c) s0 comes back and wins; "b" reaches s2, but s0's own no-op reaches nobody.
    c.start("s0")
    s0 = c.elect("s0", ["s0", "s1", "s2"])

    def only_old_entries(m: Message) -> Message | None:
        if m.kind == APPEND:
            return replace(m, entries=[e for e in m.entries if e.term < s0.term])
        return m

    c.flush(["s0", "s1", "s2"], edit=only_old_entries)
    holders = [i for i in ("s0", "s1", "s2") if c.core(i).log.term_at(b_index) == s0.log.term_at(b_index)]
    assert len(holders) == 3, "b should now be on a majority"
    if not mutants:
        assert s0.commit_index < b_index, "a previous-term entry was committed by counting"
    # (d) s0 crashes; s4 comes back, wins with s1..s3 and overwrites "b".
    c.crash("s0")
    c.start("s4")
    c.elect("s4", ["s1", "s2", "s3", "s4"])
    c.flush(["s1", "s2", "s3", "s4"])
    c.settle(rounds=20)
    return c


def test_5_4_2_figure_8_leader_does_not_commit_previous_term_entries_by_counting() -> None:
    c = _figure_8(frozenset())
    leader = c.leader()
    assert leader is not None and leader.id == "s4"


def test_5_4_2_figure_8_mutant_is_caught_by_the_safety_checks() -> None:
    with pytest.raises(SafetyViolation, match="state machine safety|committed"):
        _figure_8(frozenset({"commit-previous-term"}))


# ----- §7 log compaction -------------------------------------------------------------
def test_7_install_snapshot_brings_a_lagging_follower_up_to_date() -> None:
    c = Cluster(3, seed=9, snapshot_every=10)
    c.elect("s0")
    c.flush()
    c.crash("s2")
    for k in range(60):
        c.propose(f"v{k}")
        c.flush()
    leader = c.core("s0")
    assert leader.log.snapshot_index >= 50 and len(leader.log.entries) < 20
    c.start("s2")
    c.delivered.clear()
    c.settle(rounds=10)
    assert count(c.delivered, SNAPSHOT, dest="s2") >= 1
    assert c.machines["s2"] == c.machines["s0"] == [f"v{k}" for k in range(60)]
    # and it survives a restart from its own disk
    c.crash("s2")
    c.start("s2")
    c.settle(rounds=5)
    assert c.machines["s2"] == c.machines["s0"]


# ----- §6.4 read-only queries (ReadIndex) --------------------------------------------
def test_6_4_read_index_needs_a_majority_to_confirm_leadership() -> None:
    c = Cluster(3, seed=4)
    leader = c.elect("s0")
    c.flush()
    c.blocked = {"s0"}
    leader.read_index("r1")
    c.pump("s0")
    c.flush()
    rd = leader.ready()
    assert rd.read_states == []
    leader.advance(rd)
    c.blocked = set()
    leader.read_index("r2")
    c.pump("s0")
    got: list[Any] = []
    orig = leader.ready

    def spy() -> Any:
        rd = orig()
        got.extend((r.ctx, r.index) for r in rd.read_states)
        return rd

    leader.ready = spy  # type: ignore[method-assign]
    c.flush()
    assert got == [("r1", leader.commit_index), ("r2", leader.commit_index)]


def test_6_4_deposed_leader_drops_pending_reads() -> None:
    c = Cluster(3, seed=4)
    leader = c.elect("s0")
    c.flush()
    c.blocked = {"s0"}
    leader.read_index("r1")
    dropped: list[Any] = []
    for _ in range(3 * c.config.election_ticks):  # check-quorum makes it step down
        leader.tick()
        rd = leader.ready()
        dropped.extend(rd.dropped_reads)
        leader.advance(rd)
    assert leader.role != LEADER and dropped == ["r1"]


# ----- everything at once: random faults, safety checked at every step ----------------
def random_run(seed: int, n: int = 5, steps: int = 700, mutants: Iterable[str] = ()) -> Cluster:
    """Random delivery order, loss, duplication, crashes, restarts and isolation; then heal."""
    rng = random.Random(seed)
    config = Config(election_ticks=3, heartbeat_ticks=1, mutants=frozenset(mutants))
    c = Cluster(n, seed=seed, config=config, snapshot_every=15)
    for step in range(steps):
        r = rng.random()
        down = [i for i in c.ids if c.cores[i] is None]
        if r < 0.55 and c.inflight:
            c.deliver(rng.randrange(len(c.inflight)), keep=rng.random() < 0.1)
        elif r < 0.60 and c.inflight:
            c.inflight.pop(rng.randrange(len(c.inflight)))
        elif r < 0.85:
            c.tick(rng.choice(c.ids))
        elif r < 0.95:
            c.propose(f"{seed}-{step}")
        elif r < 0.97 and len(down) < (n - 1) // 2 + 1:
            c.crash(rng.choice([i for i in c.ids if c.cores[i] is not None]))
        elif r < 0.99 and down:
            c.start(rng.choice(down))
        else:  # isolate one node (often the leader), or heal
            leader = c.leader()
            target = leader.id if leader is not None and rng.random() < 0.5 else rng.choice(c.ids)
            c.blocked = set() if c.blocked else {target}
    # heal: everyone up, reliable network; the cluster must make progress again
    c.blocked = set()
    for i in c.ids:
        if c.cores[i] is None:
            c.start(i)
    final = f"{seed}-final"
    for _ in range(300):
        c.settle(rounds=1)
        if final not in c.machines[c.ids[0]] and c.leader() is not None:
            leader = c.leader()
            assert leader is not None
            if all(final not in log for log in c.machines.values()) and not any(
                e.command == final for e in leader.log.entries
            ):
                c.propose(final)
        if all(final in m for m in c.machines.values()):
            break
    else:
        raise AssertionError(f"seed {seed}: no progress after healing")
    return c


@settings(max_examples=40, derandomize=True, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_safety_under_loss_reordering_duplication_and_crashes(seed: int) -> None:
    random_run(seed)


def test_safety_seed_loop_three_nodes() -> None:
    for seed in range(20):
        random_run(seed, n=3, steps=500)
