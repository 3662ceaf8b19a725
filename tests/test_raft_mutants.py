"""Mutation check: every classic Raft bug in `Config.mutants` is caught by the tester.

For each mutant, the scenarios of distlab/systems/raft/scenarios.py listed in `HUNTS` are run
with the mutant switched on, over a bounded range of seeds, until one of them fails
(a `SafetyViolation` from the tester's checks, or a scenario's own assertion). The
test prints and records (junit property `caught_by`) which scenario and seed caught it,
and re-runs that scenario and seed on the correct core to show the failure is the
mutant's. A mutant nothing here can catch is an xfail with the reason.

    .venv/bin/pytest tests/test_raft_mutants.py -s    # shows the table
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from distlab.systems.raft import MUTANTS, Config, RaftCore
from distlab.systems.raft.mutants import BUGS
from distlab.systems.raft.scenarios import SCENARIOS

# mutant -> [(scenario, extra Config fields, seeds to try)], tried in order
HUNTS: dict[str, list[tuple[str, dict[str, Any], range]]] = {
    # Figure 8 needs the old-term entry to reach a majority without the new leader's no-op;
    # one entry per AppendEntries lets a lossy network split them as in the paper.
    "commit-previous-term": [("2c_figure8_unreliable", {"max_entries_per_message": 1},
                              range(1, 41))],
    "vote-not-persisted": [("2c_election_restarts", {}, range(1, 21))],
    "accept-stale-append": [("2b_stale_leader_appends", {}, range(1, 11)),
                            ("2c_reliable_churn", {}, range(1, 41))],
    "truncate-on-heartbeat": [("2c_figure8_unreliable", {}, range(1, 21))],
    "no-fast-backup": [("2b_backup", {}, range(1, 4))],
    "read-without-quorum": [("4a_one_partition_read", {}, range(1, 4))],
    # A liveness bug that pre-vote (on by default) mostly masks: the voter's early timeout
    # then only starts a pre-vote. Without it, the needless election unseats the leader.
    "no-timer-reset-on-vote": [("2a_slow_network_elections", {"pre_vote": False},
                                range(1, 11))],
    "transfer-without-catch-up": [("3a_leader_transfer_to_slow_follower", {}, range(1, 4))],
    "propose-during-transfer": [("3a_leader_transfer_to_up_to_date_node", {}, range(1, 4))],
    "repeated-transfer-restarts-timer": [("3a_leader_transfer_second_transfer_to_same_node", {},
                                          range(1, 4))],
    "concurrent-conf-changes": [("3a_step_ignore_config", {}, range(1, 4))],
    "removed-still-counted": [("3a_remove_node", {}, range(1, 4))],
}

UNCATCHABLE: dict[str, str] = {}  # mutant -> why no scenario can catch it (an xfail)


def run(name: str, seed: int, config: Config) -> str | None:
    """None if the scenario passes; else the failure, as text."""
    try:
        SCENARIOS[name](seed, config)
    except AssertionError as exc:  # SafetyViolation is an AssertionError
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


def test_every_mutant_has_a_hunt() -> None:
    assert set(HUNTS) == set(MUTANTS)


def test_mutants_live_outside_the_correct_core() -> None:
    """No mutant: exactly RaftCore. Mutants: a subclass stacking one override per bug."""
    assert set(BUGS) == set(MUTANTS)
    assert type(RaftCore("s0", ["s0"], random.Random(0), Config())) is RaftCore
    both = frozenset({"no-fast-backup", "vote-not-persisted"})
    core = RaftCore("s0", ["s0"], random.Random(0), Config(mutants=both))
    assert isinstance(core, BUGS["no-fast-backup"]) and isinstance(core, BUGS["vote-not-persisted"])
    assert type(core) is type(RaftCore("s1", ["s1"], random.Random(0), Config(mutants=both)))


@pytest.mark.parametrize("mutant", [
    pytest.param(m, marks=pytest.mark.xfail(strict=True, reason=UNCATCHABLE[m]))
    if m in UNCATCHABLE else m
    for m in MUTANTS
])
def test_mutant_is_caught(mutant: str, record_property: Any) -> None:
    tried = 0
    for name, extra, seeds in HUNTS[mutant]:
        for seed in seeds:
            tried += 1
            failure = run(name, seed, Config(mutants=frozenset({mutant}), **extra))
            if failure is None:
                continue
            control = run(name, seed, Config(**extra))
            assert control is None, f"{name} seed {seed} fails without the mutant: {control}"
            line = (f"{mutant}: caught by {name} seed {seed} ({tried} runs"
                    + (f", {extra}" if extra else "") + f") -- {failure[:160]}")
            print(line)
            record_property("caught_by", f"{name} seed {seed}")
            return
    pytest.fail(f"{mutant} survived {tried} runs of {[h[0] for h in HUNTS[mutant]]}")
