"""TinyKV project 3B's scenarios on the Multi-Raft cluster (distlab/systems/multiraft/lab.py):
each run's get/put/cas history is linearizable per key (distlab's checker), every region
group is safe, and the anchor's own assertions hold; two known-bad variants (reads from a
follower's applied state, puts applied without the epoch check) are caught as not
linearizable, and the checks themselves fail on a tampered history or replica."""

from __future__ import annotations

import copy

import pytest

from distlab.checkers.linearizable import check
from distlab.systems.multiraft.cluster import SafetyViolation
from distlab.systems.multiraft.lab import SCENARIOS, LabResult, check_raft_safety, generic

SEED = 1


@pytest.fixture(scope="module")
def results() -> dict[str, LabResult]:
    return {name: run(SEED) for name, run in SCENARIOS.items()}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_is_linearizable_and_safe(results: dict[str, LabResult], name: str) -> None:
    r = results[name]
    assert r.linearizable is True, r.explanation
    check_raft_safety(r.cluster)  # run again here so a failure names the scenario
    assert r.ok >= 4 and r.ok + r.info == r.ops
    c = r.cluster
    regions = c.pd.regions()
    assert regions[0].region.start_key == b"" and regions[-1].region.end_key == b""
    assert all(a.region.end_key == b.region.start_key for a, b in zip(regions, regions[1:], strict=False))
    if "Split" in name:  # TinyKV: "region is not split" otherwise
        assert c.pd.locate(b"").region.end_key != b""
        assert r.splits >= 1
    if "ConfChange" in name:
        assert any(i.region.epoch.conf_ver > 1 for i in regions)
    if "Recover" in name or "Unreliable" in name:
        assert r.ops > 100
    for info in regions:  # every replica of a region holds what its leader holds
        lead = c.live_leader(info.id)
        assert lead is not None
        for p in lead.region.peers:
            rep = c.replica(p.store_id, info.id)
            assert rep is not None
            if rep.applied_index == lead.applied_index:
                assert rep.kv == lead.kv


def test_many_clients_scenario_records_indefinite_outcomes(results: dict[str, LabResult]) -> None:
    """A store crashing mid-round leaves commands unanswered: they are recorded as info,
    which the checker must then place (or not) anywhere after their invocation."""
    r = results["TestConfChangeRecoverManyClients3B"]
    assert r.info > 0 and r.linearizable is True


def test_follower_reads_are_caught() -> None:
    r = generic("TestConfChangeUnreliable3B", 0, nclients=5, unreliable=True, confchange=True,
                follower_reads=True)
    assert r.linearizable is False
    assert "cannot linearize" in r.explanation


def test_puts_applied_without_the_epoch_check_are_caught() -> None:
    """A put routed before a split and applied by the left half anyway lands in a region
    that no longer owns the key: later reads (served by the right half) miss it."""
    r = generic("TestSplitUnreliable3B", 0, nclients=5, unreliable=True, split=True, stale_puts=True)
    assert r.linearizable is False
    good = generic("TestSplitUnreliable3B", 0, nclients=5, unreliable=True, split=True)
    assert good.linearizable is True


def test_a_tampered_history_is_caught(results: dict[str, LabResult]) -> None:
    """The linearizability verdict is not vacuous: one read answered with a value nobody
    wrote makes the same history fail."""
    history = copy.deepcopy(results["TestSplitUnreliable3B"].history)
    read = next(r for r in history if r["type"] == "ok" and r["f"] == "read" and r["value"][1])
    read["value"][1] = "never-written"
    assert check(history, "keyed-cas-register", budget=20.0).valid is False


def test_a_diverged_replica_is_caught() -> None:
    r = SCENARIOS["TestOneSplit3B"](SEED)
    c = r.cluster
    info = c.pd.locate(b"k1")
    lead = c.live_leader(info.id)
    other = next(c.replica(p.store_id, info.id) for p in lead.region.peers
                 if c.replica(p.store_id, info.id) is not lead)
    assert other.applied_index == lead.applied_index
    other.kv[b"k1"] = b"corrupt"
    with pytest.raises(SafetyViolation):
        check_raft_safety(c)
