"""Leader transfer (Raft dissertation §3.10; etcd-io/raft's MsgTransferLeader, TinyKV 3A's
TestLeaderTransfer*): the leader stops taking commands, brings the target up to date and
sends it TimeoutNow, and the target campaigns at once. Driven by the deterministic tester,
which checks Raft's safety properties after every tick."""

from __future__ import annotations

import random

import pytest

from distlab.systems.raft import Config, Message, NotLeader, RaftCore
from distlab.systems.raft.core import APPEND, TIMEOUT_NOW
from distlab.systems.raft.tester import Cluster


def elect(c: Cluster) -> str:
    leader = c.check_one_leader()
    c.one("warm-up", c.n)
    return leader


def test_transfer_to_an_up_to_date_follower_is_faster_than_an_election() -> None:
    c = Cluster(3, seed=1)
    leader = elect(c)
    term = c.status(leader)["term"]
    target = next(i for i in c.ids if i != leader)
    c.node(leader).transfer_leader(target)
    c.pump(leader)
    c.deliver_due()
    c.step(1)
    # the whole hand-over took less than one tick, an election at least 10 (election_ticks)
    assert c.is_leader(target) and not c.is_leader(leader)
    assert c.status(target)["term"] == term + 1
    index = c.one("after", 3)
    assert c.applied[target][index][1] == "after"


def test_transfer_to_a_lagging_follower_catches_it_up_first() -> None:
    c = Cluster(5, seed=2)
    leader = elect(c)
    target = next(i for i in c.ids if i != leader)
    c.disconnect(target)
    for k in range(20):
        c.one(f"x{k}", 4)
    c.connect(target)
    c.node(leader).transfer_leader(target)
    c.pump(leader)
    with pytest.raises(NotLeader):
        c.node(leader).propose("during")  # no new command while the target catches up
    c.step(5)
    assert c.is_leader(target)
    assert c.status(target)["last_index"] >= c.status(leader)["commit"]
    c.one("next", 5)  # the tester checked leader completeness on every tick


def test_transfer_to_an_unreachable_follower_is_given_up_after_an_election_timeout() -> None:
    c = Cluster(3, seed=3)
    leader = elect(c)
    term = c.status(leader)["term"]
    target = next(i for i in c.ids if i != leader)
    c.disconnect(target)
    c.node(leader).transfer_leader(target)
    assert c.start_cmd(leader, "refused")[2] is False
    c.step(Config().election_ticks)
    assert c.is_leader(leader) and c.status(leader)["term"] == term
    assert c.node(leader).transferee is None
    index, _, ok = c.start_cmd(leader, "taken")
    assert ok
    assert c.wait(index, 2) == "taken"


def test_transfer_refused_by_a_follower_and_for_a_stranger() -> None:
    c = Cluster(3, seed=4)
    leader = elect(c)
    follower = next(i for i in c.ids if i != leader)
    with pytest.raises(NotLeader):
        c.node(follower).transfer_leader(leader)
    with pytest.raises(ValueError):
        c.node(leader).transfer_leader("s9")


def test_stale_timeout_now_is_ignored() -> None:
    """A TimeoutNow from a deposed leader's term must not start an election."""
    node = RaftCore("s1", ["s0", "s1", "s2"], random.Random(1))
    node.step(Message(APPEND, "s0", "s1", term=3))
    node.ready()
    node.step(Message(TIMEOUT_NOW, "s2", "s1", term=2))
    assert node.term == 3 and node.role == "follower"
    node.step(Message(TIMEOUT_NOW, "s0", "s1", term=3))
    assert node.term == 4 and node.role == "candidate"


@pytest.mark.parametrize("seed", range(6))
def test_transfers_under_an_unreliable_network_and_crashes_stay_safe(seed: int) -> None:
    """Transfers to random nodes, among lost, duplicated and reordered messages and
    restarts; the tester raises SafetyViolation at the first broken property."""
    c = Cluster(5, seed=seed, reliable=False)
    rng = random.Random(seed)
    transferred = 0
    for k in range(30):
        leader = c.check_one_leader(tries=30)
        target = rng.choice([i for i in c.ids if i != leader])
        c.node(leader).transfer_leader(target)
        c.pump(leader)
        c.step(rng.randrange(1, 15))
        transferred += c.is_leader(target)
        if k % 7 == 3:
            victim = rng.choice(c.ids)
            c.crash(victim)
            c.step(5)
            c.restart(victim)
        c.one(f"c{k}", 3, timeout=400)
    assert transferred >= 5  # the hand-over does happen, not only the fallback
