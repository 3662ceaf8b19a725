"""The shard controller (distlab/systems/shardctrler): rebalancing against brute force,
the state machine, the history checker on good and bad histories, and MIT 6.824's
shardctrler tests (TestBasic, TestMulti sub-tests) as simulated scenarios on distlab's
Raft, each also checked for Raft safety from the node logs; known-bad controllers
(mutants) must be caught."""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from distlab.history import INVOKE, OK
from distlab.systems.kvraft.lab import restores
from distlab.systems.raft.trace import check_logs
from distlab.systems.shardctrler.checker import check_history
from distlab.systems.shardctrler.lab import SCENARIOS, Lab
from distlab.systems.shardctrler.rebalance import (
    NSHARDS,
    Controller,
    balanced,
    min_moves,
    moves,
    rebalance,
    rebuild,
    to_wire,
)
from tests.conftest import node_path


# ----- rebalancing ------------------------------------------------------------------------
def brute_min_moves(shards: list[int], gids: list[int]) -> int:
    """The fewest owner changes over every balanced assignment (enumerated)."""
    if not gids:
        return sum(1 for g in shards if g != 0)
    return min(moves(shards, list(a)) for a in itertools.product(gids, repeat=len(shards))
               if balanced(list(a), gids))


def small_cases(nshards: int, values: range, groups: list[list[int]]) -> Any:
    for members in groups:
        for shards in itertools.product(values, repeat=nshards):
            yield list(shards), members


GROUP_SETS = [[], [1], [2], [1, 2], [1, 3], [2, 3], [1, 2, 3], [1, 2, 4], [1, 2, 3, 4], [3, 4]]


@pytest.mark.parametrize("nshards", [1, 2, 3, 4, 5])
def test_rebalance_is_minimal_and_balanced_exhaustively(nshards: int) -> None:
    """Every assignment of up to 5 shards over gids 0-4 (0: no group, 4 sometimes not a
    member, as after a Move to a group that left), to every member set: the result is
    balanced, and moves exactly as few shards as the best balanced assignment."""
    values = range(5) if nshards <= 4 else range(4)
    checked = 0
    for shards, members in small_cases(nshards, values, GROUP_SETS):
        out = rebalance(shards, members)
        assert balanced(out, members), (shards, members, out)
        best = brute_min_moves(shards, members)
        assert moves(shards, out) == best == min_moves(shards, members), (shards, members, out)
        checked += 1
    assert checked == len(GROUP_SETS) * len(values) ** nshards


def test_rebalance_with_ten_shards_random_cases() -> None:
    """6.824's ten shards, up to 14 groups (more groups than shards leaves some empty)."""
    rng = random.Random(15)
    for _ in range(3000):
        pool = rng.sample(range(1, 30), rng.randint(0, 14))
        shards = [rng.choice([0, *pool, 99]) for _ in range(NSHARDS)]
        members = rng.sample(pool, rng.randint(0, len(pool)))
        out = rebalance(shards, members)
        assert balanced(out, members)
        assert moves(shards, out) == min_moves(shards, members)
        assert rebalance(shards, list(reversed(members))) == out  # order of the gids given
        assert rebalance(out, members) == out  # balanced already: nothing moves


def test_rebalance_breaks_ties_by_gid() -> None:
    assert rebalance([0] * 10, [2, 1]) == [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]
    assert rebalance([0] * 10, [3, 1, 2]) == [1, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    # config 1 -> join 2 -> join 3: each takes from the largest, keeping the others
    c1 = rebalance([0] * 10, [1])
    c2 = rebalance(c1, [1, 2])
    c3 = rebalance(c2, [1, 2, 3])
    assert c2 == [1, 1, 1, 1, 1, 2, 2, 2, 2, 2] and moves(c2, c3) == 3
    assert sorted(c3.count(g) for g in (1, 2, 3)) == [3, 3, 4]


def test_the_known_bad_rebalancings_are_bad() -> None:
    """`rebuild` is balanced but moves more than needed; random tie-breaks differ between
    two replicas given the same input."""
    c2 = rebalance([0] * 10, [1, 2])
    assert balanced(rebuild(c2, [1, 2, 3]), [1, 2, 3])
    assert moves(c2, rebuild(c2, [1, 2, 3])) > min_moves(c2, [1, 2, 3])
    a = [rebalance([0] * 10, range(1, 5), random.Random(seed)) for seed in range(10)]
    assert len({tuple(x) for x in a}) > 1


# ----- the state machine -------------------------------------------------------------------
def test_controller_join_leave_move_query() -> None:
    ctl = Controller()
    assert ctl.query(-1) == {"num": 0, "shards": [0] * 10, "groups": {}}
    assert ctl.apply({"op": "join", "groups": {"1": ["x", "y"]}}) == {"type": "join_ok"}
    assert ctl.query(-1)["shards"] == [1] * 10
    ctl.apply({"op": "join", "groups": {"2": ["a"], "3": ["b"]}})
    assert sorted(ctl.query(2)["groups"]) == [1, 2, 3]
    ctl.apply({"op": "move", "shard": 0, "gid": 3})
    assert ctl.query(-1)["shards"][0] == 3 and ctl.query(-1)["num"] == 3
    ctl.apply({"op": "leave", "gids": [1, 3]})
    assert ctl.query(-1)["shards"] == [2] * 10
    ctl.apply({"op": "leave", "gids": [2]})
    assert ctl.query(99) == ctl.query(-1) == {"num": 5, "shards": [0] * 10, "groups": {}}
    assert ctl.query(1)["shards"] == [1] * 10  # history is kept
    copy = Controller()
    copy.restore(ctl.snapshot())
    assert copy.configs == ctl.configs


# ----- the history checker -------------------------------------------------------------------
class H:
    """A history written by hand: sequential operations by one process unless told."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.t = 0

    def op(self, f: str, value: Any, ok: Any = None, process: int = 0) -> None:
        self.t += 10
        self.records.append({"time": self.t, "process": process, "type": INVOKE, "f": f, "value": value})
        self.t += 10
        self.records.append({"time": self.t, "process": process, "type": OK, "f": f,
                             "value": ok if ok is not None else value})

    def query(self, num: int, config: dict[str, Any], process: int = 0) -> None:
        self.op("query", {"num": num}, {"num": num, "config": config}, process)


def good_history() -> tuple[H, Controller]:
    h, ctl = H(), Controller()
    h.query(-1, to_wire(ctl.query(-1)))
    for cmd in ({"op": "join", "groups": {"1": ["x"]}}, {"op": "join", "groups": {"2": ["y"], "3": ["z"]}},
                {"op": "move", "shard": 0, "gid": 2}, {"op": "leave", "gids": [2]}):
        ctl.apply(cmd)
        h.op(cmd["op"], {k: v for k, v in cmd.items() if k != "op"})
        h.query(-1, to_wire(ctl.query(-1)))
    for n in range(len(ctl.configs)):
        h.query(n, to_wire(ctl.query(n)), process=1)
    return h, ctl


def test_checker_passes_a_good_history() -> None:
    h, _ = good_history()
    verdict = check_history(h.records)
    assert verdict["valid"] is True, verdict
    assert verdict["configs_seen"] == 5 and verdict["rebalances_checked"] == 3


def bad(records: list[dict[str, Any]]) -> str:
    verdict = check_history(records)
    assert verdict["valid"] is False, verdict
    return verdict["explanation"]


def test_checker_catches_replicas_that_disagree() -> None:
    h, ctl = good_history()
    other = to_wire(ctl.query(2))
    other["shards"] = list(reversed(other["shards"]))
    h.query(2, other, process=2)
    assert "two answers for configuration 2 differ" in bad(h.records)


def test_checker_catches_a_stale_query() -> None:
    h, ctl = good_history()
    h.query(-1, to_wire(ctl.query(3)), process=2)  # 4 operations had completed
    assert "a configuration is missing" in bad(h.records)


def test_checker_catches_an_operation_applied_twice() -> None:
    h, ctl = good_history()
    ctl.apply({"op": "leave", "gids": [3]})
    ctl.apply({"op": "leave", "gids": [3]})  # the same request, applied again
    h.op("leave", {"gids": [3]})
    h.query(-1, to_wire(ctl.query(-1)))
    assert "more than one configuration" in bad(h.records)


def test_checker_catches_a_wrong_historical_answer() -> None:
    h, ctl = good_history()
    h.query(1, to_wire(ctl.query(2)), process=2)
    assert "query(1) answered configuration 2, a later one" in bad(h.records)
    h2, ctl2 = good_history()
    h2.query(3, to_wire(ctl2.query(1)), process=2)
    assert "though configuration 3 existed" in bad(h2.records)


def test_checker_catches_needless_moves_and_imbalance() -> None:
    h, ctl = H(), Controller(mutant="rebuild")
    for cmd in ({"op": "join", "groups": {"1": ["x"], "2": ["y"]}}, {"op": "join", "groups": {"3": ["z"]}}):
        ctl.apply(cmd)
        h.op("join", {"groups": cmd["groups"]})
        h.query(-1, to_wire(ctl.query(-1)))
    assert "moved 6 shards from configuration 1 where 3 were enough" in bad(h.records)
    h2 = H()
    h2.op("join", {"groups": {"1": ["x"], "2": ["y"]}})
    h2.query(-1, {"num": 1, "shards": [1] * 7 + [2] * 3, "groups": {"1": ["x"], "2": ["y"]}})
    h2.query(0, {"num": 0, "shards": [0] * 10, "groups": {}})
    assert "configuration 1 is not balanced" in bad(h2.records)


def test_checker_catches_malformed_and_nonempty_config_zero() -> None:
    h = H()
    h.query(-1, {"num": 0, "shards": [1] * 10, "groups": {"1": ["x"]}})
    assert "configuration 0 must have no groups" in bad(h.records)
    h2 = H()
    h2.query(-1, {"num": 0, "shards": [0] * 9, "groups": {}})
    assert "malformed" in bad(h2.records)


# ----- 6.824's shardctrler tests on distlab's Raft ---------------------------------------------
def assert_raft_safe(result: Any) -> None:
    report = check_logs(result.run_dir, ordered=True)
    assert report.violations == []
    assert report.leaders >= 1 and report.applied > 0
    assert result.results["raft_safety"]["valid"] is True


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_shardctrler_lab(name: str, tmp_path: Path) -> None:
    lab = Lab(store=str(tmp_path / "store"))
    detail = lab.run(name)
    print(f"{name}: {detail}")
    result = lab.runs[-1]
    assert_raft_safe(result)
    assert result.results["workload"]["valid"] is True
    assert result.results["workload"]["queries"] >= 1
    # the run directory says it was simulated, so `distlab analyze raft` checks leader
    # completeness on it too (an "auto" here once made it skip that check)
    assert orjson.loads((result.run_dir / "config.json").read_bytes())["mode"] == "sim"


def test_restarts_come_back_from_snapshots(tmp_path: Path) -> None:
    """Under partitions and restarts, a restarted server loads its snapshot (the
    configurations and sessions) from disk and the run still passes."""
    lab = Lab(store=str(tmp_path / "store"))
    lab.run("4a_concurrent_partitioned_restarts")
    result = lab.runs[-1]
    assert [r for r in restores(result) if r[2] and r[1] > 0]
    assert all("raft/snap" in p.read_text() for p in (result.run_dir / "disks").glob("*.json"))


@pytest.mark.parametrize(("mutant", "scenario", "phrase"), [
    # rebalancing from scratch: balanced, but moves shards it need not move
    ("rebuild", "4a_minimal_transfers_after_joins", "non-minimal transfer after"),
    ("rebuild", "4a_multi_group_join_leave", "where 3 were enough"),
    # ties broken by each replica's own random numbers: the new leader disagrees
    ("random-ties", "4a_check_same_config_on_servers", "after the leader n0 was shut down"),
    # no duplicate detection: a clerk's retry after a lost reply is applied again
    ("no-sessions", "4a_concurrent_unreliable", "30 operations made configuration 3"),
    ("no-sessions", "4a_concurrent_multi_unreliable", "more than one configuration"),
])
def test_known_bad_controllers_are_caught(mutant: str, scenario: str, phrase: str, tmp_path: Path) -> None:
    lab = Lab(bin_args=[f"--mutant={mutant}"], store=str(tmp_path / "store"))
    with pytest.raises(AssertionError, match=phrase):
        lab.run(scenario)



def test_a_controller_without_replication_is_caught(tmp_path: Path) -> None:
    """Each node with its own configurations (tests/nodes/shardctrler_local.py): the
    lab runs it (it writes no Raft trace, so there is no Raft check) and catches it once
    a clerk has to turn to another server."""
    lab = Lab(node_path("shardctrler_local"), store=str(tmp_path / "store"))
    assert lab.run("4a_basic_leave_join")  # one clerk, one server: it looks right
    assert "raft_safety" not in lab.runs[-1].results
    with pytest.raises(AssertionError, match=r"query\(1\) with n0 down answered configuration 0 instead of 1"):
        lab.run("4a_historical_queries")
