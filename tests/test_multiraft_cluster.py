"""Regions as Raft groups moved by the placement driver (distlab/systems/multiraft/cluster.py):
the balance-region scheduler's moves carried out as real membership changes and leader
transfers, checked per region for Raft safety (one leader per term, committed entries
agree) and for the replica count never dropping below three."""

from __future__ import annotations

import random

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
    # one key in every region, written before the moves
    items = {c.initial[rid].start_key + b"\x00w": b"v%d" % rid for rid in c.initial}
    write_all(c, items)
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
        for s in holders:  # every replica, the moved ones too, holds the region's data
            assert c.replica(s, rid).kv == {meta.start_key + b"\x00w": b"v%d" % rid}


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


def write_all(c: MultiRaftCluster, items: dict[bytes, bytes], budget: int = 3000) -> None:
    """Write every item, retrying through splits (a put proposed against an old layout is
    refused at apply and written again), until every one reads back."""
    for _ in range(budget // 10):
        missing = [k for k, v in items.items() if c.get(k) != v]
        if not missing:
            return
        for k in missing[:8]:
            c.put(k, items[k])
        run(c, 10)
    raise AssertionError(f"{len(missing)} keys never written")


@pytest.mark.parametrize("seed", range(3))
def test_split_basic_regions_grow_past_the_size_and_split(seed: int) -> None:
    c = MultiRaftCluster([1, 2, 3], initial_layout(1, [1, 2, 3], size=0), seed=seed,
                         region_max_size=200)
    run(c, 40)
    items = {b"k%03d" % i: b"v%07d" % i for i in range(60)}  # 60 x 12 bytes
    write_all(c, items)
    run(c, 60)
    regions = c.pd.regions()
    assert len(regions) >= 3
    # the regions tile the key space, each key is in exactly one, versions went up
    assert regions[0].region.start_key == b"" and regions[-1].region.end_key == b""
    for a, b in zip(regions, regions[1:], strict=False):
        assert a.region.end_key == b.region.start_key
    assert all(r.region.epoch.version > 1 for r in regions)
    for k, v in items.items():
        holders = [rid for rid in c.initial for s in (1, 2, 3)
                   if c.replica(s, rid) is not None and k in c.replica(s, rid).kv]
        assert len(set(holders)) == 1 and c.get(k) == v
    for rid in c.initial:  # every replica of a region holds the same data and meta
        reps = [c.replica(s, rid) for s in (1, 2, 3)]
        assert all(r is not None for r in reps)
        assert all(r.kv == reps[0].kv and r.region == reps[0].region for r in reps)
        assert reps[0].data_size() <= 200 or len(reps[0].kv) < 2


def test_split_refuses_a_write_carrying_the_old_version() -> None:
    c = MultiRaftCluster([1, 2, 3], initial_layout(1, [1, 2, 3], size=0), seed=4,
                         region_max_size=100)
    run(c, 40)
    write_all(c, {b"k%03d" % i: b"v%07d" % i for i in range(20)})
    run(c, 40)
    leader = c.leader_of(1)
    assert leader is not None and leader.region.epoch.version > 1
    leader.core.propose(("put", b"k000", b"stale", 1))  # proposed against the first layout
    run(c, 10)
    assert c.get(b"k000") == b"v0000000"
    assert any(cmd[2] == b"stale" and why == "epoch not match" for cmd, why in leader.refused)


def test_split_and_balance_together() -> None:
    c = MultiRaftCluster([1, 2, 3, 4], initial_layout(1, [1, 2, 3], size=0), seed=5,
                         region_max_size=120)
    run(c, 40)
    items = {b"k%03d" % i: b"v%07d" % i for i in range(40)}
    write_all(c, items, budget=6000)
    for _ in range(200):
        run(c, 10)
        if converged(c):
            break
    assert converged(c)
    assert c.pd.store(4).region_count >= 1
    for k, v in items.items():
        assert c.get(k) == v
    for rid in c.initial:  # replicas exist exactly where the region's meta says
        leader = c.leader_of(rid)
        assert leader is not None
        assert {s for s, reps in c.replicas.items() if rid in reps} == leader.region.store_ids()
        for s in leader.region.store_ids():  # moved replicas hold the data, not just the meta
            assert c.replica(s, rid).kv == leader.kv


@pytest.mark.parametrize("seed", range(3))
def test_conf_change_with_a_store_down_then_back(seed: int) -> None:
    """A store goes silent in the middle of the moves (its replicas stop, its messages are
    lost) and comes back: the driver stops using it once it is down, every region keeps at
    least three replicas in its meta, one leader per term, and the balance still converges
    with every write readable."""
    c = MultiRaftCluster([1, 2, 3, 4, 5], initial_layout(6, [1, 2, 3]), seed=seed)
    run(c, 40)
    items = {b"r%02d-%d" % (i, j): b"x%d" % j for i in range(6) for j in range(3)}
    write_all(c, items)
    run(c, 30)
    c.down.add(2)
    run(c, 150)
    assert not c.pd.store(2).suitable(float(c.now), c.pd.max_store_down_time)
    c.down.discard(2)
    for _ in range(300):
        run(c, 10)
        if converged(c):
            break
    assert converged(c)
    for k, v in items.items():
        assert c.get(k) == v
    assert c.pd.store(4).region_count + c.pd.store(5).region_count >= 2


@pytest.mark.parametrize("seed", range(4))
def test_conf_change_and_split_recover(seed: int) -> None:
    """TinyKV 3B's *Recover tests in spirit: stores crash (all volatile state lost) and
    restart from their Raft logs and engines while regions split and move."""
    rng = random.Random(seed)
    c = MultiRaftCluster([1, 2, 3, 4, 5], initial_layout(1, [1, 2, 3], size=0), seed=seed,
                         region_max_size=150)
    run(c, 40)
    items = {b"k%03d" % i: b"v%07d" % i for i in range(50)}
    keys = sorted(items)
    for start in range(0, len(keys), 10):
        write_all(c, {k: items[k] for k in keys[start:start + 10]}, budget=4000)
        victim = rng.choice([1, 2, 3, 4, 5])
        c.down.add(victim)
        run(c, rng.randrange(5, 40))
        c.restart_store(victim)
        run(c, 20)
    for _ in range(300):
        run(c, 10)
        if converged(c):
            break
    assert converged(c)
    assert len(c.pd.regions()) >= 3
    for k, v in items.items():
        assert c.get(k) == v
    for rid in c.initial:
        leader = c.leader_of(rid)
        assert leader is not None
        holders = [s for s, reps in c.replicas.items() if rid in reps]
        assert set(holders) == leader.region.store_ids()
        for s in holders:
            assert c.replica(s, rid).kv == leader.kv
