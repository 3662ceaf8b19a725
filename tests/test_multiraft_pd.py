"""The Multi-Raft regions and placement driver (distlab/systems/multiraft).

Scenario tests are named after TinyKV's project 3C tests (scheduler/server/cluster_test.go:
TestRegion*3C, TestHeartbeatSplit3C; schedulers/balance_test.go: TestReplicas*3C,
TestReplacePendingRegion3C) where they apply; the property tests check the invariants the
scenarios only sample: epochs never go back, no key is in two regions (and, once every
region has reported, each key is in exactly one), a move never targets a store already
holding the region, and the scheduler stops.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.systems.multiraft import (
    Epoch,
    Peer,
    PlacementDriver,
    Region,
    RegionError,
    RegionInfo,
    RegionMap,
    StoreInfo,
    StoreState,
    balance_region,
    split_check,
)
from distlab.systems.multiraft.pd import AddPeer, RemovePeer, TransferLeader, apply_step

# --- helpers ---------------------------------------------------------------------------


def three_regions() -> tuple[PlacementDriver, list[RegionInfo]]:
    """TinyKV's setUpTestCluster: 3 stores, 3 regions [i, i+1) of 3 peers each."""
    pd = PlacementDriver()
    for sid in (1, 2, 3):
        pd.put_store(sid, now=0.0)
    infos = []
    for i in range(3):
        peers = tuple(Peer(10 * (i + 1) + s, s) for s in (1, 2, 3))
        region = Region(i + 1, bytes([i]), bytes([i + 1]), Epoch(2, 2), peers)
        infos.append(RegionInfo(region, leader_id=peers[i].id, approximate_size=10))
    for k, info in enumerate(infos):
        assert pd.region_heartbeat(info).accepted
        assert pd.regions() == infos[: k + 1]
    return pd, infos


def bump(info: RegionInfo, version: int = 0, conf_ver: int = 0) -> RegionInfo:
    e = info.region.epoch
    return replace(info, region=replace(info.region, epoch=Epoch(e.version + version, e.conf_ver + conf_ver)))


def store(sid: int, regions: int, *, state: StoreState = StoreState.UP, heartbeat: float = 0.0) -> StoreInfo:
    """TinyKV's mockcluster AddRegionStore: a store holding `regions` regions of size 10."""
    return StoreInfo(sid, state, heartbeat, region_count=regions, region_size=10 * regions)


def leader_region(rid: int, leader: int, *followers: int) -> RegionInfo:
    """mockcluster AddLeaderRegion: a region of size 10, leader on store `leader`."""
    peers = tuple(Peer(100 * rid + s, s) for s in (leader, *followers))
    region = Region(rid, bytes([rid]), bytes([rid + 1]), peers=peers)
    return RegionInfo(region, leader_id=peers[0].id, approximate_size=10)


def pick(stores: list[StoreInfo], regions: list[RegionInfo], replicas: int,
         now: float = 0.0) -> tuple[int, int] | None:
    got = balance_region(stores, regions, now=now, max_store_down_time=30.0, max_replicas=replicas)
    return None if got is None else (got[1], got[2])


# --- regions ---------------------------------------------------------------------------


def test_split_bumps_version_and_keeps_left_with_the_old_id():
    r = Region(1, b"", b"", Epoch(3, 5), (Peer(11, 1), Peer(12, 2)))
    left, right = r.split(b"m", 2, [21, 22])
    assert (left.id, left.start_key, left.end_key, left.epoch) == (1, b"", b"m", Epoch(4, 5))
    assert (right.id, right.start_key, right.end_key, right.epoch) == (2, b"m", b"", Epoch(4, 5))
    assert right.peers == (Peer(21, 1), Peer(22, 2))
    for bad in (b"", ):
        with pytest.raises(RegionError):
            r.split(bad, 2, [21, 22])
    with pytest.raises(RegionError):
        Region(1, b"c", b"f").split(b"f", 2, [])
    with pytest.raises(RegionError):
        r.split(b"m", 2, [21])
    with pytest.raises(RegionError):
        r.split(b"m", 2, [11, 22])


def test_conf_change_bumps_conf_ver_only():
    r = Region(1, epoch=Epoch(2, 2), peers=(Peer(11, 1),))
    r2 = r.add_peer(Peer(12, 2))
    assert r2.epoch == Epoch(2, 3) and r2.store_ids() == {1, 2}
    r3 = r2.remove_peer(11)
    assert r3.epoch == Epoch(2, 4) and r3.peers == (Peer(12, 2),)
    with pytest.raises(RegionError):
        r2.add_peer(Peer(13, 2))  # a second peer on store 2
    with pytest.raises(RegionError):
        r2.add_peer(Peer(11, 3))  # a reused peer id
    with pytest.raises(RegionError):
        r3.remove_peer(11)


def test_split_check_finds_the_middle_by_size():
    r = Region(1)
    sizes = [(b"a", 30), (b"b", 30), (b"c", 30), (b"d", 30)]
    assert split_check(r, sizes, max_size=200) is None
    assert split_check(r, sizes, max_size=100) == b"c"
    assert split_check(r, [(b"a", 10), (b"b", 100), (b"c", 10)], max_size=50) == b"b"
    assert split_check(r, [(b"a", 500)], max_size=100) is None  # one key cannot be cut
    assert split_check(Region(1, b"b", b"d"), sizes, max_size=50) == b"c"  # its own keys only


def test_region_map_locates_keys_and_leaves_gaps():
    m = RegionMap([Region(1, b"", b"g"), Region(2, b"m", b"")])
    assert m.locate(b"a").id == 1 and m.locate(b"") .id == 1
    assert m.locate(b"g") is None and m.locate(b"l") is None
    assert m.locate(b"m").id == 2 and m.locate(b"zzz").id == 2
    dropped = m.put(Region(3, b"f", b"n"))
    assert sorted(r.id for r in dropped) == [1, 2]
    assert [r.id for r in m.regions()] == [3]


# --- region heartbeats (TinyKV cluster_test.go, 3C) ---------------------------------------


def test_region_not_update_3c():
    pd, infos = three_regions()
    for info in infos:
        assert pd.region_heartbeat(info).accepted
        assert pd.regions() == infos


def test_region_update_version_3c():
    pd, infos = three_regions()
    for i, info in enumerate(infos):
        infos[i] = bump(info, version=1)
        assert pd.region_heartbeat(infos[i]).accepted
        assert pd.regions() == infos


def test_region_with_stale_version_3c():
    pd, infos = three_regions()
    for i, origin in enumerate(infos):
        infos[i] = bump(origin, version=1)
        assert pd.region_heartbeat(infos[i]).accepted
        verdict = pd.region_heartbeat(bump(origin, conf_ver=1))
        assert not verdict.accepted
        assert "stale" in verdict.reason and "version 2, conf_ver 3" in verdict.reason
        assert pd.regions() == infos


def test_epoch_is_stale_when_behind_in_either_counter():
    """Not a lexicographic comparison: ahead in version but behind in conf_ver is stale too
    (it cannot come from the same history as what is known)."""
    known = Epoch(3, 2)
    assert Epoch(2, 9).older_than(known) and Epoch(4, 1).older_than(known)
    assert not Epoch(3, 2).older_than(known) and not Epoch(4, 2).older_than(known)
    pd, infos = three_regions()
    ahead_behind = replace(infos[0], region=replace(infos[0].region, epoch=Epoch(3, 1)))
    verdict = pd.region_heartbeat(ahead_behind)
    assert not verdict.accepted and "version 2, conf_ver 2 is already known" in verdict.reason


def test_region_update_version_and_confver_3c():
    pd, infos = three_regions()
    for i, info in enumerate(infos):
        infos[i] = bump(info, version=1, conf_ver=1)
        assert pd.region_heartbeat(infos[i]).accepted
        assert pd.regions() == infos


def test_region_with_stale_conf_ver_3c():
    pd, infos = three_regions()
    for i, origin in enumerate(infos):
        infos[i] = bump(origin, conf_ver=1)
        assert pd.region_heartbeat(infos[i]).accepted
        verdict = pd.region_heartbeat(origin)
        assert not verdict.accepted and "stale" in verdict.reason
        assert pd.regions() == infos


def test_region_add_and_remove_pending_peer_3c():
    pd, infos = three_regions()
    for i, info in enumerate(infos):
        infos[i] = replace(info, pending_peers=frozenset({info.region.peers[i].id}))
        assert pd.region_heartbeat(infos[i]).accepted
    assert [s.pending_peer_count for s in pd.stores()] == [1, 1, 1]
    for i, info in enumerate(infos):
        infos[i] = replace(info, pending_peers=frozenset())
        assert pd.region_heartbeat(infos[i]).accepted
    assert [s.pending_peer_count for s in pd.stores()] == [0, 0, 0]
    assert pd.regions() == infos


def test_region_remove_and_add_back_peers_3c():
    pd, infos = three_regions()
    for origin in infos:
        one = replace(origin, region=replace(origin.region, peers=origin.region.peers[:1]),
                      leader_id=origin.region.peers[0].id)
        assert pd.region_heartbeat(one).accepted  # same epoch: not stale
        assert pd.region(origin.id) == one
        assert pd.region_heartbeat(origin).accepted
        assert pd.region(origin.id) == origin


def test_region_change_leader_and_approximate_size_3c():
    pd, infos = three_regions()
    for i, info in enumerate(infos):
        infos[i] = replace(info, leader_id=info.region.peers[1].id, approximate_size=144)
        assert pd.region_heartbeat(infos[i]).accepted
    assert pd.regions() == infos
    assert [s.leader_count for s in pd.stores()] == [0, 3, 0]
    assert [s.region_size for s in pd.stores()] == [432, 432, 432]


def test_region_counts_and_stores_info_3c():
    pd, infos = three_regions()
    for s in pd.stores():
        assert s.region_count == 3 and s.region_size == 30 and s.leader_count == 1


def test_region_heartbeat_refuses_ill_formed_reports():
    pd, infos = three_regions()
    r = infos[0].region
    assert not pd.region_heartbeat(replace(infos[0], leader_id=999)).accepted
    two_on_one = replace(r, peers=(Peer(1, 1), Peer(2, 1)), epoch=Epoch(9, 9))
    assert not pd.region_heartbeat(RegionInfo(two_on_one)).accepted
    empty = replace(r, start_key=b"b", end_key=b"a", epoch=Epoch(9, 9))
    assert not pd.region_heartbeat(RegionInfo(empty)).accepted
    assert pd.regions() == infos


def test_heartbeat_split_3c():
    pd = PlacementDriver()
    r1 = RegionInfo(Region(1))
    assert pd.region_heartbeat(r1).accepted
    assert pd.locate(b"foo") == r1
    # split 1 into 2 [nil, m) and 1 [m, nil); 2 reports first
    r1 = RegionInfo(Region(1, b"m", b"", Epoch(2, 1)))
    r2 = RegionInfo(Region(2, b"", b"m", Epoch(2, 1)))
    assert pd.region_heartbeat(r2).accepted
    assert pd.locate(b"a") == r2
    assert pd.locate(b"z") is None  # [m, nil) is missing until 1 reports
    assert pd.region_heartbeat(r1).accepted
    assert pd.locate(b"z") == r1
    # split 1 into 3 [m, q) and 1 [q, nil); 1 reports first
    r1 = RegionInfo(Region(1, b"q", b"", Epoch(3, 1)))
    r3 = RegionInfo(Region(3, b"m", b"q", Epoch(3, 1)))
    assert pd.region_heartbeat(r1).accepted
    assert pd.locate(b"z") == r1 and pd.locate(b"a") == r2
    assert pd.locate(b"n") is None
    assert pd.region_heartbeat(r3).accepted
    assert pd.locate(b"n") == r3


def test_stale_parent_refused_after_split_by_overlap():
    """A partitioned old leader still reporting the unsplit region: its id is new to the
    PD (the PD learnt only the children), so only the overlap check catches it."""
    pd = PlacementDriver()
    parent = Region(7, b"", b"", Epoch(1, 1), (Peer(71, 1), Peer(72, 2), Peer(73, 3)))
    left, right = parent.split(b"k", 8, [81, 82, 83])
    for r in (left, right):
        assert pd.region_heartbeat(RegionInfo(r)).accepted
    stale = RegionInfo(replace(parent, id=9))
    verdict = pd.region_heartbeat(stale)
    assert not verdict.accepted
    assert "overlaps region" in verdict.reason and "stale" in verdict.reason
    assert [i.region for i in pd.regions()] == [left, right]


def test_split_through_the_pd():
    pd, infos = three_regions()
    info = infos[0]
    key = split_check(info.region, [(b"\x00a", 100), (b"\x00b", 100), (b"\x00c", 100)], 144)
    assert key == b"\x00b"
    new_id, peer_ids = pd.ask_split(info.id)
    left, right = info.region.split(key, new_id, peer_ids)
    assert pd.region_heartbeat(replace(info, region=left)).accepted
    assert pd.region_heartbeat(RegionInfo(right, leader_id=right.peers[0].id)).accepted
    assert pd.locate(b"\x00a").id == info.id and pd.locate(b"\x00c").id == new_id
    assert [s.region_count for s in pd.stores()] == [4, 4, 4]
    with pytest.raises(KeyError):
        pd.ask_split(12345)


def test_allocated_ids_never_collide_with_reported_ones():
    pd = PlacementDriver()
    assert pd.region_heartbeat(RegionInfo(Region(1, peers=(Peer(1001, 1), Peer(5000, 2))))).accepted
    new_id, peer_ids = pd.ask_split(1)
    assert min(new_id, *peer_ids) > 5000


# --- store heartbeats ---------------------------------------------------------------------


def test_store_heartbeats():
    pd = PlacementDriver()
    assert not pd.store_heartbeat(1, now=1.0).accepted
    pd.put_store(1, now=0.0)
    assert pd.store_heartbeat(1, now=5.0).accepted
    assert pd.store(1).last_heartbeat == 5.0
    assert pd.store_heartbeat(1, now=2.0).accepted  # a late, reordered heartbeat
    assert pd.store(1).last_heartbeat == 5.0  # does not move liveness back
    pd.put_store(1, now=6.0, state=StoreState.TOMBSTONE)
    verdict = pd.store_heartbeat(1, now=7.0)
    assert not verdict.accepted and "tombstone" in verdict.reason


# --- balance-region (TinyKV balance_test.go, 3C) ----------------------------------------------


def test_replicas1_3c():
    stores = [store(1, 6), store(2, 8), store(3, 8), store(4, 16)]
    regions = [leader_region(1, 4)]
    assert pick(stores, regions, 1) == (4, 1)
    stores[0] = store(1, 6, state=StoreState.OFFLINE)  # offline stores take no replicas
    stores[1] = store(2, 6)
    assert pick(stores, regions, 1) == (4, 2)
    assert pick(stores, regions, 3) is None  # a region short of replicas is not moved
    assert pick(stores, regions, 1) is not None


def test_replicas3_3c():
    stores = [store(1, 16), store(2, 15), store(3, 14)]
    regions = [leader_region(1, 1, 2, 3)]
    assert pick(stores, regions, 3) is None  # every store already holds a peer
    stores.append(store(4, 2))
    assert pick(stores, regions, 3) == (1, 4)
    stores.append(store(5, 1))
    assert pick(stores, regions, 3) == (1, 5)
    stores.append(store(6, 0))
    assert pick(stores, regions, 3) == (1, 6)
    down = -1000.0  # last heard from long ago: down
    stores[5] = store(6, 0, heartbeat=down)
    assert pick(stores, regions, 3) == (1, 5)
    stores[3], stores[4] = store(4, 2, heartbeat=down), store(5, 1, heartbeat=down)
    stores.append(store(7, 20))  # the only target left is larger than the source
    assert pick(stores, regions, 3) is None


def test_replicas5_3c():
    stores = [store(1, 4), store(2, 5), store(3, 6), store(4, 7), store(5, 28)]
    regions = [leader_region(1, 1, 2, 3, 4, 5)]
    stores.append(store(6, 1))
    assert pick(stores, regions, 5) == (5, 6)
    stores.append(store(7, 5))
    assert pick(stores, regions, 5) == (5, 6)
    regions = [leader_region(1, 2, 3, 4, 5, 6)]
    assert pick(stores, regions, 5) == (5, 1)
    stores += [store(11, 29), store(12, 8), store(13, 7)]
    regions = [leader_region(1, 2, 3, 11, 12, 13)]
    assert pick(stores, regions, 5) == (11, 6)


def test_replace_pending_region_3c():
    stores = [store(1, 16), store(2, 7), store(3, 15), store(4, 10)]
    r3 = leader_region(3, 2, 1, 3)
    r3 = replace(r3, pending_peers=frozenset({r3.region.peer_on(1).id}))
    regions = [leader_region(1, 1, 2, 3), leader_region(2, 1, 2, 3), r3]
    got = balance_region(stores, regions, now=0.0, max_store_down_time=30.0, max_replicas=3)
    assert got is not None and got[0].id == 3 and got[1:] == (1, 4)


def test_no_move_when_the_gap_is_at_most_twice_the_region():
    stores = [store(1, 5), store(2, 3), store(3, 3), store(4, 3)]
    regions = [leader_region(1, 1, 2, 3)]
    assert pick(stores, regions, 3) is None  # gap 20 == 2 x 10: moving would only swap them
    stores[0] = store(1, 6)
    assert pick(stores, regions, 3) == (1, 4)


# --- operators through heartbeats ------------------------------------------------------------


def drive(pd: PlacementDriver, info: RegionInfo, limit: int = 10) -> RegionInfo:
    """Play the region's leader: heartbeat, apply the step handed back, until none comes."""
    for _ in range(limit):
        verdict = pd.region_heartbeat(info)
        assert verdict.accepted, verdict.reason
        if verdict.step is None:
            return info
        info = apply_step(info, verdict.step)
    raise AssertionError("the operator did not finish")


def test_move_peer_operator_adds_then_transfers_then_removes():
    pd = PlacementDriver(max_replicas=3)
    for sid in (1, 2, 3, 4):
        pd.put_store(sid, now=0.0)
    infos = [leader_region(rid, 1, 2, 3) for rid in (1, 2, 3)]
    for info in infos:
        assert pd.region_heartbeat(info).accepted
    op = pd.schedule(now=1.0)
    assert op is not None and (op.from_store, op.to_store) == (1, 4) and op.region_id == 1
    info = pd.region(1)
    v = pd.region_heartbeat(info)
    assert isinstance(v.step, AddPeer) and v.step.peer.store_id == 4
    info = apply_step(info, v.step)
    new_id = v.step.peer.id
    pending = replace(info, pending_peers=frozenset({new_id}))
    assert pd.region_heartbeat(pending).step is None  # wait for the new peer to catch up
    v = pd.region_heartbeat(info)
    assert v.step == TransferLeader(new_id)  # store 1's peer leads: hand leadership over first
    info = apply_step(info, v.step)
    v = pd.region_heartbeat(info)
    assert isinstance(v.step, RemovePeer) and info.region.peer_on(1).id == v.step.peer_id
    info = apply_step(info, v.step)
    assert pd.region_heartbeat(info).step is None
    assert 1 not in pd.operators()
    assert info.region.store_ids() == {2, 3, 4} and info.region.epoch.conf_ver == 3


def test_operator_dropped_when_the_region_splits():
    pd = PlacementDriver(max_replicas=3)
    for sid in (1, 2, 3, 4):
        pd.put_store(sid, now=0.0)
    for rid in (1, 2, 3):
        assert pd.region_heartbeat(leader_region(rid, 1, 2, 3)).accepted
    op = pd.schedule(now=0.0)
    assert op is not None
    info = pd.region(op.region_id)
    new_id, peer_ids = pd.ask_split(info.id)
    left, _right = info.region.split(info.region.start_key + b"m", new_id, peer_ids)
    assert pd.region_heartbeat(replace(info, region=left)).step is None
    assert op.region_id not in pd.operators()


def test_down_store_is_not_a_target():
    pd = PlacementDriver(max_replicas=1, max_store_down_time=30.0)
    pd.put_store(1, now=0.0)
    pd.put_store(2, now=0.0)
    for rid in range(1, 5):
        assert pd.region_heartbeat(leader_region(rid, 1)).accepted
    assert pd.store_heartbeat(1, now=100.0).accepted
    assert pd.schedule(now=100.0) is None  # store 2 silent for 100 s: down
    assert pd.store_heartbeat(2, now=100.0).accepted
    op = pd.schedule(now=100.0)
    assert op is not None and (op.from_store, op.to_store) == (1, 2)


# --- properties ------------------------------------------------------------------------------

KEYS = [bytes([c]) for c in b"bdfhjlnprtvx"] + [bytes([c, d]) for c in b"gmq" for d in b"ae"]
PROBES = [b""] + sorted(KEYS) + [k + b"\x00" for k in KEYS] + [b"zz"]

ops = st.lists(st.tuples(st.sampled_from(["split", "add", "remove", "report", "replay"]),
                         st.integers(0, 50), st.integers(0, 50)), max_size=40)


@settings(max_examples=150, deadline=None)
@given(ops)
def test_epochs_never_go_back_and_keys_never_in_two_regions(script):
    """A true cluster (splits and membership changes) reports its regions to the PD, mixed
    with replays of any description it ever had (stale heartbeats from deposed leaders)."""
    pd = PlacementDriver()
    truth: dict[int, Region] = {1: Region(1, b"", b"", Epoch(1, 1), (Peer(2, 1), Peer(3, 2), Peer(4, 3)))}
    history: list[Region] = list(truth.values())
    next_id = 100
    seen: dict[int, Epoch] = {}
    key_version: dict[bytes, int] = {}
    for op, a, b in script:
        ids = sorted(truth)
        r = truth[ids[a % len(ids)]]
        if op == "split":
            inside = [k for k in KEYS if r.contains(k) and k != r.start_key]
            if not inside:
                continue
            new_ids = list(range(next_id + 1, next_id + 1 + len(r.peers)))
            left, right = r.split(inside[b % len(inside)], next_id, new_ids)
            next_id += 1 + len(r.peers)
            truth[left.id], truth[right.id] = left, right
            history += [left, right]
        elif op == "add":
            store_id = 1 + b % 6
            if store_id in r.store_ids():
                continue
            truth[r.id] = r.add_peer(Peer(next_id, store_id))
            next_id += 1
            history.append(truth[r.id])
        elif op == "remove":
            if len(r.peers) <= 1:
                continue
            truth[r.id] = r.remove_peer(r.peers[b % len(r.peers)].id)
            history.append(truth[r.id])
        else:
            report = r if op == "report" else history[b % len(history)]
            pd.region_heartbeat(RegionInfo(report))
        known = pd.regions()
        for info in known:  # per region id: never back
            e = info.region.epoch
            if info.id in seen:
                assert not e.older_than(seen[info.id]), (info.id, e, seen[info.id])
            seen[info.id] = e
        for key in PROBES:  # per key: in at most one region, whose version never falls
            holders = [i for i in known if i.region.contains(key)]
            assert len(holders) <= 1, (key, holders)
            if holders:
                v = holders[0].region.epoch.version
                assert v >= key_version.get(key, 0), (key, v, key_version[key])
                key_version[key] = v
            assert pd.locate(key) == (holders[0] if holders else None)
    for r in truth.values():  # once every region reports its current state...
        assert pd.region_heartbeat(RegionInfo(r)).accepted
    assert sorted((i.region for i in pd.regions()), key=lambda r: r.id) == \
        sorted(truth.values(), key=lambda r: r.id)
    for key in PROBES:  # ...every key is in exactly one region
        assert sum(r.contains(key) for r in truth.values()) == 1
        assert pd.locate(key) is not None and pd.locate(key).region.contains(key)


@st.composite
def clusters(draw):
    n_stores = draw(st.integers(2, 6))
    replicas = draw(st.integers(1, min(3, n_stores)))
    stores = [StoreInfo(s + 1, draw(st.sampled_from([StoreState.UP] * 3 + [StoreState.OFFLINE])),
                        draw(st.sampled_from([0.0, 0.0, -100.0]))) for s in range(n_stores)]
    regions = []
    for rid in range(1, draw(st.integers(1, 12)) + 1):
        hosts = draw(st.permutations(range(1, n_stores + 1)))[: draw(st.integers(1, replicas))]
        peers = tuple(Peer(100 * rid + h, h) for h in hosts)
        pending = frozenset(p.id for p in peers if draw(st.booleans()) and draw(st.booleans()))
        regions.append(RegionInfo(Region(rid, bytes([rid]), bytes([rid + 1]), Epoch(1, 1), peers),
                                  leader_id=peers[draw(st.integers(0, len(peers) - 1))].id,
                                  approximate_size=draw(st.integers(0, 40)),
                                  pending_peers=pending))
    return stores, regions, replicas


@settings(max_examples=200, deadline=None)
@given(clusters())
def test_balance_never_targets_a_holder_and_only_moves_past_twice_the_size(cluster):
    stores, regions, replicas = cluster
    pd = PlacementDriver(max_replicas=replicas)
    for s in stores:
        pd.put_store(s.id, now=s.last_heartbeat, state=s.state)
    for info in regions:
        assert pd.region_heartbeat(info).accepted
    now = 0.0
    got = balance_region(pd.stores(), pd.regions(), now=now, max_store_down_time=30.0,
                         max_replicas=replicas)
    by_id = {s.id: s for s in pd.stores()}
    if got is not None:
        info, src, dst = got
        assert dst not in info.region.store_ids() and src in info.region.store_ids()
        assert by_id[dst].suitable(now, 30.0) and by_id[src].suitable(now, 30.0)
        assert len(info.region.peers) >= replicas
        assert by_id[src].region_size - by_id[dst].region_size > 2 * info.size()
    else:  # brute force: no region has a valuable move from any suitable holder
        up = [s for s in by_id.values() if s.suitable(now, 30.0)]
        for info in pd.regions():
            if len(info.region.peers) < replicas:
                continue
            for src in up:
                for dst in up:
                    if src.id in info.region.store_ids() and dst.id not in info.region.store_ids():
                        assert src.region_size - dst.region_size <= 2 * info.size()


@settings(max_examples=100, deadline=None)
@given(clusters())
def test_the_scheduler_terminates_and_every_move_shrinks_its_gap(cluster):
    stores, regions, replicas = cluster
    pd = PlacementDriver(max_replicas=replicas, region_schedule_limit=1)
    for s in stores:
        pd.put_store(s.id, now=s.last_heartbeat, state=s.state)
    for info in regions:
        assert pd.region_heartbeat(info).accepted

    def potential() -> int:
        return sum(s.region_size ** 2 for s in pd.stores())

    for _ in range(500):
        before = {s.id: s.region_size for s in pd.stores()}
        energy = potential()
        op = pd.schedule(now=0.0)
        if op is None:
            break
        info = drive(pd, pd.region(op.region_id))
        assert op.to_store in info.region.store_ids() and op.from_store not in info.region.store_ids()
        after = {s.id: s.region_size for s in pd.stores()}
        gap, new_gap = before[op.from_store] - before[op.to_store], after[op.from_store] - after[op.to_store]
        assert 0 < new_gap < gap
        assert potential() < energy
    else:
        raise AssertionError("the balance scheduler kept moving regions")
    assert balance_region(pd.stores(), pd.regions(), now=0.0, max_store_down_time=30.0,
                          max_replicas=replicas) is None
