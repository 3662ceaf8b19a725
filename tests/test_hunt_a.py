"""False-pass hunt (raft, kvraft, elector): each scenario added or strengthened to catch a
learner's mistake that used to pass is shown to fail that mistake on fixed seeds, and to
pass distlab's correct core (with and without pre-vote, and a correct Raft that appends
no no-op on election, as 6.824's lab allows)."""

from __future__ import annotations

import itertools
import random
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import distlab.systems.kvraft
from distlab.systems.kvraft.lab import SCENARIOS as KV_SCENARIOS
from distlab.systems.kvraft.lab import Lab
from distlab.systems.raft.core import (
    APPEND_RESP,
    PREVOTE,
    PREVOTE_RESP,
    VOTE,
    VOTE_RESP,
    Config,
    Message,
    Persisted,
    Progress,
    RaftCore,
    ReadState,
    Role,
)
from distlab.systems.raft.quorum import vote_result
from distlab.systems.raft.scenarios import SCENARIOS


class NoNoop(RaftCore):
    """Correct, but a new leader appends nothing of its own term (6.824's lab shape)."""

    def _become_leader(self) -> None:
        self._set_role(Role.LEADER)
        self.leader_id = self.id
        self._elapsed = 0
        self._heartbeat_elapsed = 0
        self.progress = {p: Progress(next=self.log.last_index + 1) for p in self.peers}
        self._broadcast_append()


class NoNoopCountsReplicas(NoNoop):
    """Figure 8's bug where a no-op does not hide it."""

    def _can_commit(self, n: int) -> bool:
        return True


class VoteIgnoresLog(RaftCore):
    """No election restriction, in votes or pre-votes."""

    def _on_request_vote(self, m: Message) -> None:
        grant = m.term == self.term and self.vote in (None, m.src)
        if grant:
            self._grant_vote(m.src)
        self._send(Message(VOTE_RESP, self.id, m.src, self.term, reject=not grant))

    def _on_request_prevote(self, m: Message) -> None:
        grant = m.term > self.term
        self._send(Message(PREVOTE_RESP, self.id, m.src, m.term if grant else self.term,
                           reject=not grant))


class ReadAnyOldAck(RaftCore):
    """ReadIndex confirmed by acknowledgements of any earlier round."""

    def _release_reads(self) -> None:
        if not self._pending_reads:
            return
        acked = sum(1 for pr in self.progress.values() if pr.acked_round > 0)
        if acked + (self.id in self.members) < self.quorum:
            return
        while self._pending_reads and self._pending_reads[0][2] is not None:
            ctx, _, index = self._pending_reads.pop(0)
            self._read_states.append(ReadState(ctx, index))


class ReadBeforeTermCommit(RaftCore):
    """ReadIndex at the commit index before an entry of the leader's term commits."""

    def read_index(self, ctx: Any) -> None:
        super().read_index(ctx)
        for read in self._pending_reads:
            if read[2] is None:
                read[2] = self.commit_index
        self._release_reads()


class VotesFromRemoved(RaftCore):
    """Asks every server ever known for votes, and counts every vote granted."""

    def _ask_the_removed(self, kind: str, term: int) -> None:
        for peer in self._order:
            if peer != self.id and peer not in self.peers:
                self._send(Message(kind, self.id, peer, term, index=self.log.last_index,
                                   log_term=self.log.last_term))

    def _become_pre_candidate(self) -> None:
        super()._become_pre_candidate()
        if self.role == Role.PRE_CANDIDATE:
            self._ask_the_removed(PREVOTE, self.term + 1)

    def _become_candidate(self) -> None:
        super()._become_candidate()
        if self.role == Role.CANDIDATE:
            self._ask_the_removed(VOTE, self.term)

    def _tally(self) -> Any:
        return vote_result(self.votes, len(self.members))


class NeverCutsStoredLog(RaftCore):
    """Stores new entries, never cuts the stored log at last_index."""

    _disk_last = 0

    def ready(self) -> Any:
        rd = super().ready()
        if rd.last_index is not None:
            rd.last_index = max(rd.last_index, self._disk_last)
            self._disk_last = rd.last_index
        return rd


class HintIsPrev(RaftCore):
    """The conflict hint's index is prevLogIndex, not where the conflicting term starts."""

    def _reject_append(self, m: Message, prev: int) -> None:
        if prev > self.log.last_index:
            hint_index, hint_term = self.log.last_index + 1, 0
        else:
            hint_index, hint_term = prev, self.log.term_at(prev) or 0
        self._send(Message(APPEND_RESP, self.id, m.src, self.term, index=prev, reject=True,
                           hint_index=hint_index, hint_term=hint_term, round=m.round))


def factory(core: type[RaftCore]) -> Any:
    """A tester factory building `core` (servers outside `peers` are not voters yet)."""

    def make(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> Any:
        config = Config()
        if node_id not in peers:
            config = Config(voters=frozenset(peers))
            peers = [*peers, node_id]
        return core(node_id, peers, rng, config, persisted)

    return make


def outcome(name: str, raft: Any, seed: int) -> str | None:
    """None if scenario `name` passes on `seed`, else its failure as one line."""
    try:
        SCENARIOS[name](seed, raft)
    except AssertionError as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


# (scenario, the mistake it must catch, a phrase of the failure)
CAUGHT = [
    ("2c_figure8_exact", NoNoopCountsReplicas, "state machine safety"),
    ("2b_election_restriction", VoteIgnoresLog, "state machine safety"),
    ("4a_one_partition_read", ReadAnyOldAck, "stale read"),
    ("4a_read_after_election", ReadBeforeTermCommit, "stale read"),
    ("3a_removed_server_votes", VotesFromRemoved, "votes count only from the voters"),
    ("2c_persist_truncation", NeverCutsStoredLog, "log matching"),
    ("2b_backup_unknown_term", HintIsPrev, "rejected appends"),
]


@pytest.mark.parametrize(("name", "bug", "phrase"), CAUGHT, ids=[c[0] for c in CAUGHT])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_new_scenarios_catch_the_mistake(name: str, bug: type[RaftCore], phrase: str,
                                         seed: int) -> None:
    reason = outcome(name, factory(bug), seed)
    assert reason is not None and phrase in reason, reason


@pytest.mark.parametrize("name", [c[0] for c in CAUGHT])
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_new_scenarios_pass_a_correct_raft(name: str, seed: int) -> None:
    assert outcome(name, None, seed) is None
    assert outcome(name, Config(pre_vote=False), seed) is None


@pytest.mark.parametrize("name", ["2c_figure8_exact", "2b_election_restriction",
                                  "4a_one_partition_read", "3a_removed_server_votes",
                                  "2c_persist_truncation", "2b_backup_unknown_term"])
def test_a_correct_raft_without_a_noop_passes(name: str) -> None:
    """The new scenarios demand no no-op on election, except a read right after one
    (4a_read_after_election: without it a new leader cannot serve reads at all)."""
    for seed in (1, 2, 3):
        assert outcome(name, factory(NoNoop), seed) is None


def test_truncate_on_heartbeat_caught_by_unreliable_agree() -> None:
    """2B's task now runs 2c_unreliable_agree: reordered appends expose a follower that
    cuts its log after a shorter message when nothing conflicted."""
    reason = outcome("2c_unreliable_agree", Config(mutants=frozenset({"truncate-on-heartbeat"})), 1)
    assert reason is not None and "durability" in reason, reason


# ----- kvraft: kv-lab's scripted scenarios ------------------------------------------------
KVRAFT_NODE = Path(distlab.systems.kvraft.__file__).with_name("node.py")
KVRAFT = Path(__file__).resolve().parents[1] / "distlab" / "tracks" / "kvraft"
KV_CAUGHT = [
    ("3a_clerks_same_ids", KVRAFT / "02-duplicates" / "mutants" / "dedup_by_msg_id.py"),
    ("3a_paused_leader_reads", KVRAFT / "03-partitions" / "mutants" / "leader_local_reads.py"),
    ("3a_deposed_leader_writes", KVRAFT / "28-answer-after-commit" / "mutants" / "answer_by_index.py"),
    ("3a_deaf_node_writes", KVRAFT / "03-partitions" / "mutants" / "timeout_is_definite.py"),
    ("3a_resent_cas", KVRAFT / "02-duplicates" / "mutants" / "cas_not_deduplicated.py"),
]


@pytest.mark.parametrize(("name", "mutant"), KV_CAUGHT, ids=[c[0] for c in KV_CAUGHT])
def test_kv_lab_scripts_catch_the_mistake(name: str, mutant: Path, tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="not linearizable"):
        KV_SCENARIOS[name](Lab(bin=str(mutant), store=str(tmp_path)))


@pytest.mark.parametrize("name", [c[0] for c in KV_CAUGHT])
@pytest.mark.parametrize("offset", [0, 1, 2])
def test_kv_lab_scripts_pass_distlabs_kvraft(name: str, offset: int, tmp_path: Path) -> None:
    lab = Lab(bin=str(KVRAFT_NODE), store=str(tmp_path), seed_offset=offset)
    assert KV_SCENARIOS[name](lab)


# ----- sharder: the rebalance and configuration graders -----------------------------------
SHARDER = Path(__file__).resolve().parents[1] / "distlab" / "tracks" / "sharder"


def _module(path: Path, source: str | None = None) -> Any:
    """A task's file as a module (registered, for its dataclasses); `source` replaces its
    text (a mistake)."""
    name = f"_hunt_a_{path.parent.name}_{path.stem}_{next(_COUNTER)}".replace("-", "_")
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    exec(compile(source if source is not None else path.read_text(), str(path), "exec"), module.__dict__)  # noqa: S102
    return module


_COUNTER = itertools.count()


def _mistake(path: Path, old: str, new: str) -> Any:
    text = path.read_text()
    assert text.count(old) == 1, old
    return _module(path, text.replace(old, new))


@pytest.mark.parametrize("seed", [1, 2])
def test_smaller_gids_joining_catches_extras_to_the_smallest_gids(seed: int) -> None:
    task = SHARDER / "02-rebalance-join"
    grader = _module(task / "grader.py")
    name = "groups with smaller gids joining"
    assert grader.run(name, _module(task / "reference.py").rebalance, seed) is None
    buggy = _mistake(task / "reference.py", "    by_size = sorted(members, key=lambda g: (-held[g], g))",
                     "    by_size = members")
    reason = grader.run(name, buggy.rebalance, seed)
    assert reason is not None and "enough" in reason, reason
    # the old scenarios never let a smaller gid join, so they could not tell
    for old in ("twelve joins one by one", "several groups joining at once"):
        assert grader.run(old, buggy.rebalance, seed) is None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_history_with_real_moves_catches_a_shared_shard_list(seed: int) -> None:
    task = SHARDER / "05-configurations"
    grader = _module(task / "grader.py")
    name = "old configurations never change"
    assert grader.run(name, _module(task / "reference.py").Controller, seed) is None
    buggy = _mistake(task / "reference.py",
                     '        shards = list(self.configs[-1]["shards"])\n        shards[shard] = gid',
                     '        shards = self.configs[-1]["shards"]\n        shards[shard] = gid')
    reason = grader.run(name, buggy.Controller, seed)
    assert reason is not None and "changed an old configuration" in reason, reason


@pytest.mark.parametrize("seed", [1, 2])
def test_leaves_from_any_assignment_catch_extras_to_the_smallest_gids(seed: int) -> None:
    task = SHARDER / "03-rebalance-leave"
    grader = _module(task / "grader.py")
    name = "small cases from any assignment against brute force"
    assert grader.run(name, _module(task / "reference.py").rebalance, seed) is None
    buggy = _mistake(task / "reference.py", "    by_size = sorted(members, key=lambda g: (-held[g], g))",
                     "    by_size = members")
    reason = grader.run(name, buggy.rebalance, seed)
    assert reason is not None and "enough" in reason, reason
    assert grader.run("small cases against brute force", buggy.rebalance, seed) is None


def test_balance_tries_the_next_store_when_the_largest_has_nothing_to_move() -> None:
    task = SHARDER / "13-balance"
    grader = _module(task / "grader.py")
    name = "the largest store has nothing to move: the next one is tried"
    assert grader.run(name, _module(task / "reference.py").balance, 1) is None
    buggy = _mistake(task / "reference.py",
                     "                return (region.id, source.id, target.id)\n    return None",
                     "                return (region.id, source.id, target.id)\n        return None\n    return None")
    reason = grader.run(name, buggy.balance, 1)
    assert reason is not None and "expected (11, 2, 4)" in reason, reason
    assert grader.run("150 seeded clusters", buggy.balance, 1) is None  # why it passed before
