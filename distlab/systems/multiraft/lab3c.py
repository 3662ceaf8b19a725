"""TinyKV project 3C's scenarios on the running Multi-Raft cluster, not only as unit tests.

TinyKV grades 3C with unit tests of the scheduler (TestRegionHeartbeat on a mock
cluster, TestBalanceRegionScheduler on hand-made store tables). Here the same rules are
driven by a live cluster whose regions split and move under clients, and the outcome is
judged like 3B's: the clients' history linearizable per key, every region group safe.

* TestRegionHeartbeat3C: a fifth of the leaders' heartbeats are held up and arrive later,
  and old reports are delivered again (from a leader deposed since), so a split's child
  may report before its parent and the parent's old range arrive after both: the driver must
  refuse exactly the stale ones (older in version after a split, or in conf_ver after a
  membership change) and take every other, and reports newer in one counter but older in
  the other (a conflict) are refused. At the end the driver's table is the leaders' own.
* TestBalanceRegion3C: six regions start on stores 1-3 while store 5 is down and store 6
  is offline (being drained); the balance-region rule moves replicas to store 4, never
  to the down or offline store nor a region that is short of replicas, and to store 5
  once it is back; every decision is the
  rule's (the store picked, the gap more than twice the region's size); the stores end
  balanced, every region on distinct stores with its replicas.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from .cluster import initial_layout
from .lab import SCENARIOS as SCENARIOS_3B
from .lab import Clients, LabCluster, LabResult, _confchange, _finish
from .pd import RegionInfo, StoreState, Verdict
from .pieces import Pieces, TrackBalance
from .region import Epoch, Region


def _epoch(r: Region) -> str:
    return f"version {r.epoch.version}, conf_ver {r.epoch.conf_ver}"


def region_heartbeat(seed: int = 0, pieces: Pieces | None = None) -> LabResult:
    """TestRegionHeartbeat3C (see the module docstring)."""
    started = time.perf_counter()
    stores = [1, 2, 3, 4, 5]
    c = LabCluster(stores, initial_layout(1, [1, 2, 3]), seed=seed, loss=0.05,
                   region_max_size=60, pieces=pieces)
    c.pd.region_schedule_limit = 0  # the conf changer decides the moves
    rng = random.Random(f"lab3c-heartbeat/{seed}")
    sent: list[tuple[int, RegionInfo]] = []  # (tick, report) of every heartbeat a leader sent
    held: list[RegionInfo] = []  # reports the network is holding up
    hold = [0.2]
    own_heartbeat = c.pd.region_heartbeat

    slowed: dict[tuple[int, int], int] = {}  # (parent, version after its split) -> tick first seen
    seen: set[int] = set()

    def recorded(info: RegionInfo) -> Verdict:
        sent.append((c.now, info))
        known = c.pd.region(info.id)
        key = (info.id, info.region.epoch.version)
        if known is not None and info.region.epoch.version > known.region.epoch.version:
            # a parent's reports after its split are slow (up to 60 ticks): its child,
            # which needs an election first, gets to report before it
            if c.now - slowed.setdefault(key, c.now) < 60:
                return Verdict(False, "held up in the network")
        if rng.random() < hold[0]:  # held up: it arrives later, maybe after newer ones
            held.append(info)
            return Verdict(False, "held up in the network")
        verdict = own_heartbeat(info)
        if verdict.accepted and info.id not in seen and seen:
            # a split's child reported first: now the parent's report from before the split
            # arrives; it overlaps the child, which is newer, so it is stale
            before = [i for _, i in sent if i.id != info.id and i.region.contains(info.region.start_key)
                      and i.region.epoch.version < info.region.epoch.version]
            if before:
                late["child first"] += 1
                _deliver_late(c, before[-1], late)
            for k in slowed:  # the parents may report now
                slowed[k] = -1000
        seen.add(info.id)
        return verdict

    c.pd.region_heartbeat = recorded  # type: ignore[method-assign]
    keys = [b"k%02d" % i for i in range(0, 40, 3)]
    clients = Clients(c, 5, keys, seed=seed)
    c.tick(40)
    late = {"version": 0, "conf_ver": 0, "taken": 0, "conflict": 0, "child first": 0}
    moves = 0
    for t in range(600):
        c.tick()
        clients.step()
        if t % 40 == 20:
            moves += _confchange(c, rng, stores)
        if t % 7 == 3 and sent:
            old = [info for at, info in sent if at <= c.now - 15]
            if old:
                _deliver_late(c, rng.choice(old), late)
        if held and rng.random() < 0.3:
            _deliver_late(c, held.pop(rng.randrange(len(held))), late)
        if t % 50 == 25:
            _conflict(c, rng, late)
    hold[0] = 0.0
    for info in held:
        _deliver_late(c, info, late)
    clients.drain()
    result = _finish("TestRegionHeartbeat3C", seed, c, clients, started, moves)
    if min(late["version"], late["conf_ver"], late["conflict"], late["child first"]) == 0:
        raise AssertionError(f"the scenario made too few stale reports to judge the driver ({late}): "
                             "a bug in the scenario, not in your code")
    for info in c.pd.regions():
        lead = c.live_leader(info.id)
        if lead is not None and lead.region != info.region:
            raise AssertionError(f"the driver's table holds region {info.id} at {_epoch(info.region)} "
                                 f"but its leader applied {_epoch(lead.region)}: a newer report was lost")
    if c.table is not None:
        mine = [(i.id, i.region.start_key, i.region.end_key, i.region.epoch.version, i.region.epoch.conf_ver)
                for i in c.pd.regions()]
        theirs = c.table.regions()
        if theirs != mine:
            raise AssertionError(f"RegionTable.regions() returned {theirs}, but the reports taken make "
                                 f"{mine} (id, start, end, version, conf_ver), in key order")
    result.detail = (f"{late['version']} late reports refused by version, {late['conf_ver']} by conf_ver, "
                     f"{late['conflict']} conflicting refused, {late['taken']} late but current taken, "
                     f"{late['child first']} splits whose child reported first")
    return result


def _deliver_late(c: LabCluster, info: RegionInfo, late: dict[str, int]) -> None:
    """Hand the driver a report that was held up: its verdict must be the epoch rule's
    (the judge of a learner's table raises otherwise)."""
    known = c.pd.region(info.id)
    stale = c.pd.check_stale(info.region)
    verdict = c.pd.region_heartbeat(info)
    if verdict.accepted:
        late["taken"] += 1
        return
    if stale is None:
        return  # refused as ill-formed, not by epoch
    by_conf = known is not None and info.region.epoch.conf_ver < known.region.epoch.conf_ver
    late["conf_ver" if by_conf else "version"] += 1


def _conflict(c: LabCluster, rng: random.Random, late: dict[str, int]) -> None:
    """A report newer in one counter and older in the other (two leaders' views crossing):
    stale by the rule, so refused, and the table unchanged."""
    regions = [i for i in c.pd.regions() if i.region.epoch.conf_ver > 1 or i.region.epoch.version > 1]
    if not regions:
        return
    info = rng.choice(regions)
    e = info.region.epoch
    epoch = Epoch(e.version + 1, e.conf_ver - 1) if e.conf_ver > 1 else Epoch(e.version - 1, e.conf_ver + 1)
    forged = Region(info.id, info.region.start_key, info.region.end_key, epoch, info.region.peers)
    verdict = c.pd.region_heartbeat(RegionInfo(forged, info.leader_id, info.approximate_size))
    if verdict.accepted:  # only distlab's own driver gets here, and it must not
        raise AssertionError(f"the driver took region {info.id} at {_epoch(forged)} while {_epoch(info.region)} "
                             "is known: a report older in either counter is stale")
    if c.pd.region(info.id) != info:
        raise AssertionError(f"a refused report changed the driver's table for region {info.id}")
    late["conflict"] += 1


def balance_region(seed: int = 0, pieces: Pieces | None = None) -> LabResult:
    """TestBalanceRegion3C (see the module docstring)."""
    started = time.perf_counter()
    stores = [1, 2, 3, 4, 5, 6]
    c = LabCluster(stores, initial_layout(6, [1, 2, 3]), seed=seed, loss=0.05, pieces=pieces)
    c.pd.region_schedule_limit = 0
    c.down.add(5)  # down from the start: never heard from
    c.pd.put_store(6, 0.0, StoreState.OFFLINE)  # being drained: alive, but takes no new replica
    keys = [b"r%02d-%d" % (r, i) for r in range(6) for i in range(2)]
    clients = Clients(c, 5, keys, seed=seed)
    c.tick(45)  # elections; store 5 is now past max_store_down_time
    c.must(lambda: c.propose_remove(6, 3))  # region 6 is short of a replica: left alone
    c.must(lambda: (i := c.pd.region(6)) is not None and i.region.store_ids() == {1, 2})
    moved6 = None
    c.pd.region_schedule_limit = 2
    for t in range(900):
        c.tick()
        clients.step()
        if t < 400:
            if any(5 in i.region.store_ids() for i in c.pd.regions()):
                raise AssertionError("a replica was moved to store 5 while it was down")
        if any(6 in i.region.store_ids() for i in c.pd.regions()):
            raise AssertionError("a replica was moved to store 6, which is offline (being drained)")
        if t == 400:
            c.restart_store(5)
        info6 = c.pd.region(6)
        if info6 is not None and moved6 is None and info6.region.store_ids() != {1, 2}:
            moved6 = info6.region.store_ids()
    clients.drain()
    c.pd.region_schedule_limit = 0
    result = _finish("TestBalanceRegion3C", seed, c, clients, started, c.pd.scheduled)
    if moved6 is not None:
        raise AssertionError(f"region 6, short of a replica, was moved (to stores {sorted(moved6)})")
    if c.pd.scheduled < 3:
        raise AssertionError(f"only {c.pd.scheduled} replicas were moved: stores 4 and 5 started empty")
    counts = {s.id: s.region_count for s in c.pd.stores() if s.id != 6}
    if counts[4] == 0 or counts[5] == 0:
        raise AssertionError(f"store 4 or 5 holds no region at the end ({counts}): nothing was balanced")
    for info in c.pd.regions():
        peers = info.region.peers
        want = 2 if info.id == 6 else 3
        if len(peers) != want or len({p.store_id for p in peers}) != len(peers):
            raise AssertionError(f"region {info.id} ends with peers on stores "
                                 f"{[p.store_id for p in peers]}; it had {want} on distinct stores")
    left = TrackBalance.rule(c.pd.stores(), c.pd.regions(), float(c.now), c.pd.max_store_down_time,
                             c.pd.max_replicas)
    if left is not None:
        sizes = ", ".join(f"s{s.id}:{s.region_size}" for s in c.pd.stores())
        raise AssertionError(f"the stores end unbalanced (region sizes {sizes}): moving region "
                             f"{left[0].id} from store {left[1]} to store {left[2]} still qualifies")
    result.detail = (f"{c.pd.scheduled} replicas moved; regions per store "
                     + ", ".join(f"s{k}:{v}" for k, v in sorted(counts.items())))
    return result


SCENARIOS_3C: dict[str, Callable[..., LabResult]] = {
    "TestRegionHeartbeat3C": region_heartbeat,
    "TestBalanceRegion3C": balance_region,
}

SCENARIOS: dict[str, Callable[..., LabResult]] = {**SCENARIOS_3B, **SCENARIOS_3C}
"""Every region-lab scenario: TinyKV 3B's, then 3C's; each a function of (seed, pieces)."""

__all__ = ["SCENARIOS", "SCENARIOS_3C", "balance_region", "region_heartbeat"]
