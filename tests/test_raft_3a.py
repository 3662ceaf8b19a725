"""TinyKV 3A's scenarios in the Raft tester (distlab/systems/raft/scenarios_3a.py): leader
transfer and membership change, on distlab's core, on a learner-style adapter, with the
3A mutants (each must be caught, with a reason a learner can act on), on a Raft lacking
the optional members (skipped, one line), and through `distlab raft-test`."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from distlab.systems.raft import MUTANTS, Config, Persisted, RaftCore
from distlab.systems.raft.interface import Transfers, check_raft, lacking_optional
from distlab.systems.raft.scenarios import NEEDS, SCENARIOS
from distlab.systems.raft.suite import run_suite
from distlab.systems.raft.tester import Cluster
from tests.nodes import raft_plugins, raft_plugins_3a

ROOT = Path(__file__).resolve().parents[1]
NAMES = [name for name in SCENARIOS if name.startswith("3a_")]

# mutant -> (the scenario that catches it, a phrase its failure must carry)
CAUGHT_BY = {
    "transfer-without-catch-up": ("3a_leader_transfer_to_slow_follower",
                                  "must first bring the target's log up to date"),
    "propose-during-transfer": ("3a_leader_transfer_to_up_to_date_node",
                                "a leader stops taking commands while it hands over"),
    "repeated-transfer-restarts-timer": ("3a_leader_transfer_second_transfer_to_same_node",
                                         "a repeated request must not restart that timeout"),
    "concurrent-conf-changes": ("3a_step_ignore_config", "one change at a time"),
    "removed-still-counted": ("3a_remove_node", "still counts towards the quorum"),
}


def failure(name: str, seed: int, raft: Any) -> str | None:
    try:
        SCENARIOS[name](seed, raft)
    except AssertionError as exc:
        return str(exc)
    return None


def test_the_3a_scenarios_are_registered() -> None:
    assert len(NAMES) == 21
    for name in ("3a_leader_transfer_to_up_to_date_node", "3a_leader_transfer_after_snapshot",
                 "3a_transfer_non_member", "3a_add_node", "3a_remove_node",
                 "3a_commit_after_remove_node", "3a_promotable", "3a_raft_nodes"):
        assert name in NAMES
    assert all(name in NEEDS for name in NAMES)
    assert NEEDS["3a_leader_transfer_after_snapshot"] == ("transfer_leader", "compact")


@pytest.mark.parametrize("seed", [1, 7])
@pytest.mark.parametrize("name", NAMES)
def test_distlabs_core_passes(name: str, seed: int) -> None:
    SCENARIOS[name](seed)


@pytest.mark.parametrize("name", NAMES)
def test_a_learners_raft_with_the_optional_members_passes(name: str) -> None:
    """The same scenarios through the documented interface only (the adapter in
    tests/nodes/raft_plugins_3a.py returns None for a refused change, as a learner may)."""
    SCENARIOS[name](3, raft_plugins_3a.with_transfers)


@pytest.mark.parametrize("name", ["3a_remove_node", "3a_leader_transfer_to_slow_follower",
                                  "3a_promotable", "3a_leader_transfer_receive_higher_term_vote",
                                  "3a_transfer_and_conf_change_churn"])
def test_without_pre_vote(name: str) -> None:
    """Many learners' Rafts have no pre-vote: the scenarios must not depend on it."""
    for seed in (1, 2):
        SCENARIOS[name](seed, Config(pre_vote=False))


def test_every_3a_mutant_has_a_description_and_a_catcher() -> None:
    assert set(CAUGHT_BY) <= set(MUTANTS)
    for name, _ in CAUGHT_BY.values():
        assert name in NAMES


@pytest.mark.parametrize("mutant", sorted(CAUGHT_BY))
def test_mutant_is_caught_with_a_readable_reason(mutant: str) -> None:
    name, phrase = CAUGHT_BY[mutant]
    for seed in (1, 2, 3):
        text = failure(name, seed, Config(mutants=frozenset({mutant})))
        assert text is not None, f"{mutant} passed {name} at seed {seed}"
        assert phrase in text, text
        assert "\n" not in text and "{" not in text  # a sentence, not a dump
        assert failure(name, seed, None) is None  # the failure is the mutant's


def test_removed_still_counted_is_also_caught_by_commit_after_remove() -> None:
    text = failure("3a_commit_after_remove_node", 1, Config(mutants=frozenset({"removed-still-counted"})))
    assert text is not None and "stored on" in text and "still counts towards the quorum" in text


def test_two_changes_in_flight_split_the_cluster() -> None:
    """Beyond the refusal 3a_step_ignore_config asks for: with both additions in force at
    once, a leader cut off from the old voters commits them with the new servers, while
    the old voters elect their own leader; the safety checks see two entries committed
    at one index."""
    for seed in (1, 2):
        text = failure("3a_two_changes_in_flight", seed, Config(mutants=frozenset({"concurrent-conf-changes"})))
        assert text is not None and text.startswith("state machine safety:"), text
        assert "'conf_change': 'add'" in text


def test_a_cut_link_drops_only_its_own_messages() -> None:
    c = Cluster(3, 1)
    leader = warm_up_leader(c)
    a, b = (i for i in c.ids if i != leader)
    c.cut(leader, a)
    index = c.one("without the cut link", 2)
    c.step(5)
    assert index in c.applied[b] and index not in c.applied[a]
    c.mend(leader, a)
    c.step(5)
    assert index in c.applied[a]


def warm_up_leader(c: Cluster) -> str:
    c.one("warm-up", c.n)
    return c.check_one_leader()


def test_the_transfer_mutants_break_transfers_only() -> None:
    """Sanity: the transfer bugs leave the 2A-2B scenarios passing (they are not just
    broken cores), so what catches them is the 3A scenario."""
    for mutant in ("transfer-without-catch-up", "propose-during-transfer",
                   "repeated-transfer-restarts-timer"):
        for name in ("2a_re_election", "2b_fail_agree"):
            assert failure(name, 1, Config(mutants=frozenset({mutant}))) is None


def test_a_raft_lacking_transfer_leader_gets_the_3a_scenarios_skipped() -> None:
    names = ["2a_initial_election", "3a_leader_transfer_to_self", "3a_add_node",
             "3a_leader_transfer_remove_node"]
    outcomes = {o.name: o for o in run_suite(raft_plugins.correct, names, range(1, 2))}
    assert outcomes["2a_initial_election"].status == "pass"
    transfer = outcomes["3a_leader_transfer_to_self"]
    assert (transfer.status, transfer.detail) == ("skip", "needs transfer_leader()")
    assert outcomes["3a_add_node"].status == "skip"
    assert outcomes["3a_add_node"].detail.startswith("needs members, the voters in force")
    both = outcomes["3a_leader_transfer_remove_node"].detail
    assert both.startswith("needs transfer_leader() and members") and "\n" not in both


def test_a_raft_with_transfers_but_no_members_runs_the_transfer_scenarios() -> None:
    names = ["3a_leader_transfer_back", "3a_remove_node"]
    outcomes = {o.name: o for o in run_suite(raft_plugins_3a.transfers_only, names, range(1, 2))}
    assert outcomes["3a_leader_transfer_back"].status == "pass"
    assert outcomes["3a_remove_node"].status == "skip"


def test_interface_knows_the_optional_members() -> None:
    core = RaftCore("s0", ["s0", "s1"], random.Random(0))
    assert isinstance(core, Transfers) and lacking_optional(core) == set()
    adapter = raft_plugins_3a.with_transfers("s0", ["s0", "s1", "s2"], random.Random(0), Persisted())
    assert check_raft(adapter) is None and lacking_optional(adapter) == set()
    plain = raft_plugins.correct("s0", ["s0", "s1", "s2"], random.Random(0), Persisted())
    assert lacking_optional(plain) == {"transfer_leader", "members"}

    class BadMembers(raft_plugins.Adapter):
        members = 3

    bad = BadMembers("s0", ["s0", "s1", "s2"], random.Random(0), Persisted())
    problem = check_raft(bad)
    assert problem is not None and "members is a int, not a collection of node ids" in problem


def test_a_server_outside_the_initial_configuration_is_built_without_its_id() -> None:
    seen: dict[str, list[str]] = {}

    def factory(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> Any:
        seen[node_id] = list(peers)
        return raft_plugins_3a.with_transfers(node_id, peers, rng, persisted)

    c = Cluster(4, 1, factory=factory, voters=3)
    assert seen == {i: ["s0", "s1", "s2"] for i in c.ids}
    assert c.node("s3").members == {"s0", "s1", "s2"}
    assert c.safety.n == 3  # durability counts a majority of the voters


def raft_test(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "distlab", "raft-test", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_cli_lists_and_runs_the_3a_scenarios() -> None:
    listed = raft_test("--list", "-s", "3a_*")
    assert listed.returncode == 0 and listed.stdout.split() == NAMES
    proc = raft_test("-s", "3a_*")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{len(NAMES)} scenarios: {len(NAMES)} pass" in proc.stdout
    assert all(f"PASS {name}" in proc.stdout for name in NAMES)


def test_cli_names_a_caught_mutant_and_skips_for_a_plain_raft() -> None:
    proc = raft_test("--mutant", "removed-still-counted", "-s", "3a_remove_node")
    assert proc.returncode == 1
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("FAIL"))
    assert "3a_remove_node" in line and "still counts towards the quorum" in line
    plain = raft_test(f"{ROOT / 'tests' / 'nodes' / 'raft_plugins.py'}:correct", "-s", "3a_leader_transfer_to_s*")
    assert plain.returncode == 2, plain.stdout + plain.stderr  # all skipped: nothing was tested
    assert "SKIP 3a_leader_transfer_to_self" in plain.stdout and "(needs transfer_leader())" in plain.stdout
    assert "every selected scenario was skipped" in plain.stdout
    assert "Traceback" not in plain.stdout + plain.stderr
