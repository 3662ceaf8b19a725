"""Membership change one server at a time (Raft dissertation §4.1; TinyKV 3A's conf change,
3B's TestBasicConfChange3B / TestConfChangeRecover3B / TestConfChangeUnreliable3B in
spirit), on the deterministic tester: election safety, log matching, leader completeness,
state machine safety and durability are checked after every tick.

The configuration in force on a server is the latest one in its log, committed or not, so a
restarted server rebuilds it from its disk (the snapshot carries the configuration at its
index). The tester checks durability against a majority of the smallest configuration a
test goes through: an entry is stored on a majority of the configuration that committed it.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from distlab.systems.raft import Config, Entry, Message, NotLeader, RaftCore
from distlab.systems.raft.core import (
    APPEND,
    APPEND_RESP,
    VOTE_RESP,
    ConfChangeRefused,
    as_conf_change,
    conf_change,
)
from distlab.systems.raft.tester import Cluster


def cluster(n: int, voters: int, seed: int, smallest: int, **kw: Any) -> Cluster:
    """n servers s0..s{n-1}, of which the first `voters` form the initial configuration;
    durability is checked against a majority of `smallest` (the smallest configuration)."""
    initial = frozenset(f"s{i}" for i in range(voters))

    def make(node_id: str, peers: list[str], rng: random.Random, persisted: Any) -> RaftCore:
        return RaftCore(node_id, peers, rng, Config(voters=initial), persisted)

    c = Cluster(n, seed, factory=make, **kw)
    c.safety.n = smallest
    return c


def change(c: Cluster, op: str, node: str, timeout: int = 600) -> int:
    """Have the current leader commit a membership change; retries through elections."""
    deadline = c.now + timeout
    while c.now < deadline:
        leader = c.check_one_leader(tries=40)
        try:
            index = c.node(leader).propose(conf_change(op, node))
        except (NotLeader, ConfChangeRefused):
            c.step()
            continue
        c.pump(leader)
        term = c.status(leader)["term"]
        for _ in range(60):
            c.step()
            if not c.alive(leader) or c.status(leader)["term"] != term:
                break
            if c.status(leader)["commit"] >= index or (
                    c.node(leader).role != "leader" and op == "remove" and node == leader):
                return index
        if any(c.alive(i) and i in c.applied and index in c.applied[i]
               and as_conf_change(c.applied[i][index][1]) == (op, node) for i in c.ids):
            return index
    raise AssertionError(f"could not {op} {node} in {timeout} ticks")


def voters(c: Cluster, i: str) -> set[str]:
    return set(c.node(i).members)


def test_add_servers_one_at_a_time() -> None:
    c = cluster(5, 3, seed=1, smallest=3)
    c.one("a", 3)
    for new in ("s3", "s4"):
        assert not c.is_leader(new)
        change(c, "add", new)
    index = c.one("b", 5)  # every server, the two added ones too, applies it
    assert all(c.applied[i][index][1] == "b" for i in c.ids)
    assert all(voters(c, i) == set(c.ids) for i in c.ids)
    assert all(c.applied[i][1] == c.applied["s0"][1] for i in c.ids)  # the whole log, from 1


def test_a_server_outside_the_configuration_never_stands() -> None:
    c = cluster(4, 3, seed=2, smallest=3)
    c.one("a", 3)
    c.disconnect("s3")
    c.step(200)  # its election timer fires many times over
    assert c.status("s3")["term"] == 0 and c.status("s3")["role"] == "follower"


def test_remove_a_follower_then_the_leader() -> None:
    c = cluster(5, 5, seed=3, smallest=3)
    c.one("a", 5)
    leader = c.check_one_leader()
    follower = next(i for i in c.ids if i != leader)
    change(c, "remove", follower)
    c.one("b", 4)
    leader = c.check_one_leader()
    change(c, "remove", leader)  # the leader commits its own removal, then steps down
    c.step(5)
    assert not c.is_leader(leader)
    new = c.check_one_leader(tries=40)
    assert new not in (leader, follower)
    index = c.one("c", 3)
    c.step(300)
    for gone in (leader, follower):
        assert not c.is_leader(gone)
        assert index not in c.applied[gone]  # no longer sent anything
    rest = [i for i in c.ids if i not in (leader, follower)]
    assert all(voters(c, i) == set(rest) for i in rest)


def test_one_change_at_a_time_and_only_once_the_leader_has_committed_in_its_term() -> None:
    leader = RaftCore("s0", ["s0", "s1", "s2"], random.Random(1), Config(pre_vote=False))
    leader.campaign()
    leader.step(Message(VOTE_RESP, "s1", "s0", term=1))
    assert leader.role == "leader"
    with pytest.raises(ConfChangeRefused, match="term"):
        leader.propose(conf_change("add", "s3"))  # its no-op is not committed yet
    leader.step(Message(APPEND_RESP, "s1", "s0", term=1, index=1))
    assert leader.commit_index == 1
    index = leader.propose(conf_change("add", "s3"))
    assert leader.members == {"s0", "s1", "s2", "s3"}  # in force once in the log
    assert "s3" in leader.progress
    with pytest.raises(ConfChangeRefused, match="one change at a time"):
        leader.propose(conf_change("remove", "s2"))
    with pytest.raises(ConfChangeRefused):
        leader.propose(conf_change("add", "s1"))
    # 4 voters: s1 alone no longer makes a majority with the leader
    leader.step(Message(APPEND_RESP, "s1", "s0", term=1, index=index))
    assert leader.commit_index == 1
    leader.step(Message(APPEND_RESP, "s2", "s0", term=1, index=index))
    assert leader.commit_index == index
    with pytest.raises(ConfChangeRefused, match="not a voter"):
        leader.propose(conf_change("remove", "s9"))
    leader.propose(conf_change("remove", "s2"))
    assert leader.members == {"s0", "s1", "s3"} and "s2" not in leader.progress


def test_truncated_change_is_undone_and_votes_outside_the_configuration_do_not_count() -> None:
    follower = RaftCore("s1", ["s0", "s1", "s2"], random.Random(1), Config(pre_vote=False))
    follower.step(Message(APPEND, "s0", "s1", term=1, index=0, log_term=0,
                          entries=[Entry(1, 1, None), Entry(2, 1, conf_change("add", "s3"))]))
    assert follower.members == {"s0", "s1", "s2", "s3"}
    # a new leader of term 2 never had index 2: the change goes with the entry
    follower.step(Message(APPEND, "s2", "s1", term=2, index=1, log_term=1,
                          entries=[Entry(2, 2, "x")]))
    assert follower.members == {"s0", "s1", "s2"}
    follower.campaign()
    term = follower.term
    follower.step(Message(VOTE_RESP, "s9", "s1", term=term))  # a stranger's vote
    assert follower.role == "candidate"
    follower.step(Message(VOTE_RESP, "s0", "s1", term=term))
    assert follower.role == "leader"


def test_configuration_recovers_after_all_servers_restart() -> None:
    c = cluster(4, 3, seed=5, smallest=3)
    c.one("a", 3)
    change(c, "add", "s3")
    for i in c.ids:
        c.crash(i)
    for i in c.ids:
        c.restart(i)
        assert voters(c, i) == {"s0", "s1", "s2", "s3"}  # rebuilt from the log on disk
    c.one("b", 4)


def test_snapshot_carries_the_configuration() -> None:
    c = cluster(5, 3, seed=6, smallest=3, snapshot_every=5)
    for k in range(6):
        c.one(f"a{k}", 3)
    change(c, "add", "s3")
    for k in range(12):
        c.one(f"b{k}", 4)  # the change is compacted into snapshots
    assert all(c.node(i).log.snapshot_index > 7 for i in ("s0", "s1", "s2", "s3"))
    c.crash("s3")
    c.restart("s3")
    assert voters(c, "s3") == {"s0", "s1", "s2", "s3"}
    change(c, "add", "s4")  # s4 starts empty: it learns the log through a snapshot
    c.one("c", 5)
    assert c.node("s4").log.snapshot.voters is not None
    assert voters(c, "s4") == set(c.ids)


@pytest.mark.parametrize("seed", range(5))
def test_conf_change_unreliable_with_crashes(seed: int) -> None:
    """Servers removed and added back at random, with lost, duplicated and reordered
    messages and restarts; never fewer than 3 voters."""
    c = cluster(5, 5, seed=seed, smallest=3, reliable=False)
    rng = random.Random(seed)
    members = set(c.ids)
    for k in range(12):
        if len(members) > 3 and rng.random() < 0.5:
            gone = rng.choice(sorted(members))
            change(c, "remove", gone)
            members.discard(gone)
        elif len(members) < 5:
            back = rng.choice(sorted(set(c.ids) - members))
            change(c, "add", back)
            members.add(back)
        if k % 4 == 1:
            victim = rng.choice(sorted(members))
            c.crash(victim)
            c.step(rng.randrange(1, 20))
            c.restart(victim)
        c.one(f"c{k}", len(members) // 2 + 1, timeout=600)
    c.reliable = True
    index = c.one("last", len(members), timeout=600)
    for i in members:
        assert voters(c, i) == members and index in c.applied[i]
