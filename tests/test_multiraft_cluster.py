"""Regions as Raft groups moved by the placement driver (distlab/systems/multiraft/cluster.py):
the balance-region scheduler's moves carried out as real membership changes and leader
transfers, checked per region for Raft safety (one leader per term, committed entries
agree) and for the replica count never dropping below three."""

from __future__ import annotations

import pytest

from distlab.systems.multiraft import RegionInfo, balance_region
from distlab.systems.multiraft.cluster import MultiRaftCluster, initial_layout


def run(c: MultiRaftCluster, ticks: int) -> None:
    for _ in range(ticks):
        c.tick()
        for info in c.pd.regions():
            assert len(info.region.peers) >= 3, f"region {info.id} fell to {info.region.peers}"


def converged(c: MultiRaftCluster) -> bool:
    """Every region reported, no move in flight, none left to make."""
    return len(c.pd.regions()) == len(c.initial) and not c.pd.operators() and balance_region(
        c.pd.stores(), c.pd.regions(), now=float(c.now), max_store_down_time=30.0,
        max_replicas=3) is None


@pytest.mark.parametrize("seed", range(3))
def test_balance_region_fills_a_new_store_through_raft(seed: int) -> None:
    c = MultiRaftCluster([1, 2, 3, 4], initial_layout(6, [1, 2, 3]), seed=seed)
    run(c, 60)
    for rid in c.initial:  # every region elected a leader and took a command
        leader = c.leader_of(rid)
        assert leader is not None
        leader.core.propose(f"w{rid}")
    for _ in range(200):
        run(c, 10)
        if converged(c):
            break
    assert converged(c)
    assert c.pd.store(4).region_count >= 2  # the empty store took replicas
    sizes = [s.region_size for s in c.pd.stores()]
    assert max(sizes) - min(sizes) <= 2 * 10
    run(c, 20)
    for rid in c.initial:
        leader = c.leader_of(rid)
        assert leader is not None
        meta = leader.region
        assert meta.epoch.conf_ver > 1 or len(meta.peers) == 3
        holders = {s for s, reps in c.replicas.items() if rid in reps}
        assert holders == meta.store_ids()  # removed peers were dropped, added ones exist
        for s in holders:  # every replica, the moved ones too, applied the region's command
            assert any(cmd == f"w{rid}" for _, _, cmd in c.replica(s, rid).applied)


def test_stale_heartbeat_after_a_move_is_refused() -> None:
    c = MultiRaftCluster([1, 2, 3, 4], initial_layout(3, [1, 2, 3]), seed=7)
    for _ in range(100):
        run(c, 10)
        if converged(c):
            break
    moved = [i for i in c.pd.regions() if i.region.epoch.conf_ver > 1]
    assert moved
    old = c.initial[moved[0].id]  # a deposed leader still reporting the first layout
    verdict = c.pd.region_heartbeat(RegionInfo(old, old.peers[0].id, 10))
    assert not verdict.accepted and "stale" in verdict.reason
    assert c.pd.region(old.id) == moved[0]
