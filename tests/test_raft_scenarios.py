"""The Raft scenarios (distlab/systems/raft/scenarios.py) against distlab's RaftCore,
one test each at seed 1, a few over more seeds, and the tester's own checks.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from distlab.systems.raft import Config, Entry
from distlab.systems.raft.scenarios import (
    SCENARIOS,
    many_elections,
    slow_network_elections,
    stale_leader_appends,
)
from distlab.systems.raft.tester import Cluster, SafetyViolation
from tests.nodes import raft_plugins


def _make_test(name: str) -> Callable[[], None]:
    def test() -> None:
        SCENARIOS[name]()  # seed 1, the correct core

    test.__name__ = f"test_{name}"
    test.__doc__ = SCENARIOS[name].__doc__
    return test


for _name in SCENARIOS:  # test_2a_initial_election, test_2a_re_election, ...
    globals()[f"test_{_name}"] = _make_test(_name)


@pytest.mark.parametrize("seed", range(2, 6))
@pytest.mark.parametrize("name", ["2c_figure8_unreliable", "2c_unreliable_churn",
                                  "2d_snapshot_install_unreliable"])
def test_more_seeds(name: str, seed: int) -> None:
    SCENARIOS[name](seed)


def test_tester_checks_durability() -> None:
    """Followers obeying a deposed leader's late AppendEntries overwrite an entry the new
    leader committed: the durability check names it at once (before it spreads)."""
    with pytest.raises(SafetyViolation, match="durability: committed entry"):
        stale_leader_appends(1, Config(mutants=frozenset({"accept-stale-append"})))


@pytest.mark.parametrize("seed", [18, 29, 34])
def test_elections_without_pre_vote(seed: int) -> None:
    """Without pre-vote, candidates with stale logs bump everyone's term; if that alone
    restarted the up-to-date nodes' election timers, they would never stand and no leader
    would be elected (these seeds elected none before the core stopped doing it)."""
    many_elections(seed, Config(pre_vote=False))
    slow_network_elections(seed, Config(pre_vote=False))


def test_tester_runs_a_plugged_in_raft() -> None:
    c = Cluster(3, 7, factory=raft_plugins.correct, snapshot_every=5)
    for cmd in range(12):
        c.one(cmd, 3)
    c.restart(c.check_one_leader())
    c.one("after restart", 3)
    assert all(c.disks[i].snapshot is not None for i in c.ids)


def test_tester_catches_a_violation() -> None:
    """The checks are live: two nodes with different commands at one (index, term)."""
    c = Cluster(3, 1)
    c.one("x", 3)
    leader = c.check_one_leader()
    follower = next(i for i in c.ids if i != leader)
    log = c.node(follower).log
    last = log.entry(log.last_index)
    log.entries[-1] = Entry(last.index, last.term, "forged")
    with pytest.raises(SafetyViolation, match="log matching|state machine safety"):
        c.check_safety()
