"""TinyKV project 3B's scenarios on the Multi-Raft cluster, graded like a Jepsen test.

TinyKV's tests (kv/test_raftstore/test_test.go) drive clients while a conf changer moves
peers, regions split, the network drops messages and every store restarts; they then
compare what each client appended. Here the same scenarios (every 3B test: leader
transfer, conf change and split, with restarts, loss and partitions) run on
`MultiRaftCluster` with fixed seeds, a lossy network and minorities partitioned off,
and the verdict is stronger: every get, put and cas is recorded as a history in
distlab's shape and checked for per-key linearizability with distlab's checker (the keyed compare-and-set register of lin-kv), while each region's Raft group is
checked for safety (one leader per term, one entry per committed index, replicas that
applied the same prefix holding the same data).

Client commands go through the region's Raft log and are answered when first applied:
a read is a log entry too, so it sees every write committed before it (no ReadIndex or
lease needed). A command carries the region version it was routed with and is refused at
apply if the region has been split since, or if the key is not in the region: refused
means not applied, so the client retries through the driver's fresh table. A command
not answered in time is recorded as indefinite ("info") and never retried, since it may
still commit later.

`follower_reads=True` is the known-bad variant: a get answered at once from the applied
state of the replica on the client's nearest store, without ReadIndex or lease. A replica
that has not yet applied the latest writes (a follower one heartbeat behind, a store just
restarted, a peer still catching up) answers with an old value.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from distlab.checkers.linearizable import check
from distlab.systems.raft.core import ConfChangeRefused, NotLeader, conf_change

from .cluster import (
    MultiRaftCluster,
    Replica,
    SafetyViolation,
    initial_layout,
    is_leader,
    parse_name,
    peer_name,
    propose,
)
from .pd import MovePeer
from .pieces import Pieces
from .region import Peer


class _LossyWire(list):
    """The in-flight message list: each message sent is lost with probability `loss`
    (TinyKV's unreliable network drops RPCs the same way); with `delay`, a message is
    also held back 1-12 ticks with that probability (so it arrives after later ones, maybe
    from a leader deposed since) or sent twice."""

    def __init__(self, items: list, rng: random.Random, loss: float, cut: set[int],
                 delay: float = 0.0, held: list | None = None, clock: Any = None) -> None:
        super().__init__(items)
        self.rng, self.loss, self.cut = rng, loss, cut
        self.delay, self.held, self.clock = delay, held, clock

    def _kept(self, m: Any) -> bool:
        if self.cut and {parse_name(m.src).store_id, parse_name(m.dest).store_id} & self.cut:
            return False  # a partitioned store: nothing crosses
        return self.loss <= 0 or self.rng.random() >= self.loss

    def extend(self, msgs: Any) -> None:  # type: ignore[override]
        kept = [m for m in msgs if self._kept(m)]
        if self.delay <= 0 or self.held is None:
            super().extend(kept)
            return
        for m in kept:
            roll = self.rng.random()
            if roll < self.delay:
                self.held.append((self.clock() + self.rng.randint(1, 12), m))
                continue
            if roll < 1.5 * self.delay:
                super().append(m)  # duplicated
            super().append(m)


class LabCluster(MultiRaftCluster):
    """The cluster with client commands (get, put, cas) answered at apply, a lossy network
    and the known-bad follower-read variant."""

    def __init__(self, *args: Any, loss: float = 0.0, follower_reads: bool = False,
                 stale_puts: bool = False, delay: float = 0.0, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.loss = loss
        self.delay = delay
        self.held: list[tuple[int, Any]] = []  # (due tick, message) held back by the network
        self.follower_reads = follower_reads or self.pieces.follower_reads
        self.stale_puts = stale_puts
        self.loss_rng = random.Random(f"lab-loss/{self.seed}")
        self.cut: set[int] = set()  # stores partitioned from every other
        self.set_loss(loss)
        self.outcomes: dict[int, tuple[str, Any]] = {}  # attempt -> ("ok"|"fail"|"refused", value)

    def restart_store(self, store_id: int) -> None:
        super().restart_store(store_id)
        self.set_loss(self.loss)

    def set_loss(self, loss: float) -> None:
        """The network's loss rate; 0 makes it reliable again (no more delays either)."""
        self.loss = loss
        if loss <= 0:
            self.delay = 0.0
        self.inflight = _LossyWire(self.inflight, self.loss_rng, loss, self.cut, self.delay, self.held,
                                   lambda: self.now)

    def tick(self, n: int = 1) -> None:
        for _ in range(n):
            if self.held:
                due = [m for at, m in self.held if at <= self.now + 1]
                self.held[:] = [(at, m) for at, m in self.held if at > self.now + 1]
                list.extend(self.inflight, due)
            super().tick()

    def _apply_admin(self, store_id: int, rep: Replica, cmd: tuple) -> None:
        if cmd[0] not in ("get", "putx", "cas"):
            super()._apply_admin(store_id, rep, cmd)
            return
        attempt, key, version = cmd[1], cmd[2], cmd[3]
        region = rep.region
        if self.stale_puts and cmd[0] == "putx":
            rep.kv[key] = cmd[4]  # the bad variant: no epoch check, so no range check either
            outcome: tuple[str, Any] = ("ok", None)
        elif version != region.epoch.version or not region.contains(key):
            outcome = ("refused", None)
        elif cmd[0] == "get":
            outcome = ("ok", rep.kv.get(key))
        elif cmd[0] == "putx":
            rep.kv[key] = cmd[4]
            outcome = ("ok", None)
        elif rep.kv.get(key) == cmd[4]:
            rep.kv[key] = cmd[5]
            outcome = ("ok", None)
        else:
            outcome = ("fail", None)
        # every replica applies the same entry to the same state: the first answer is the answer
        self.outcomes.setdefault(attempt, outcome)

    def live_leader(self, region_id: int) -> Replica | None:
        rep = self.leader_of(region_id)
        if rep is None or parse_name(rep.name).store_id in self.down:
            return None
        return rep

    # membership changes by hand (TinyKV's MustAddPeer / MustRemovePeer / MustTransferLeader)
    def propose_remove(self, region_id: int, store_id: int) -> bool:
        rep = self.live_leader(region_id)
        if rep is None:
            return False
        target = rep.region.peer_on(store_id)
        if target is None:
            return True
        try:
            propose(rep.core, conf_change("remove", peer_name(target)))
        except (ConfChangeRefused, ValueError):
            return False
        self._pump(parse_name(rep.name).store_id, region_id)
        return False

    def propose_add(self, region_id: int, store_id: int) -> bool:
        rep = self.live_leader(region_id)
        if rep is None:
            return False
        if rep.region.peer_on(store_id) is not None:
            return True
        core = rep.core
        if rep.applied_index > core.log.snapshot_index:  # the new peer gets a snapshot
            core.compact(rep.applied_index, (dict(rep.kv), rep.region))
        try:
            propose(core, conf_change("add", peer_name(Peer(self.pd.alloc_id(), store_id))))
        except (ConfChangeRefused, ValueError):
            return False
        self._pump(parse_name(rep.name).store_id, region_id)
        return False

    def transfer(self, region_id: int, store_id: int) -> bool:
        rep = self.live_leader(region_id)
        if rep is None:
            return False
        if parse_name(rep.name).store_id == store_id:
            return True
        target = rep.region.peer_on(store_id)
        if target is not None:
            try:
                rep.core.transfer_leader(peer_name(target))
                self.transfers += 1
            except (NotLeader, ValueError):
                pass
            self._pump(parse_name(rep.name).store_id, region_id)
        return False

    def must(self, action: Callable[[], bool], budget: int = 400) -> None:
        """Retry `action` every few ticks until it reports done."""
        for _ in range(budget):
            if action():
                return
            self.tick(3)
        raise AssertionError(f"a leader transfer or membership change the scenario asked for never "
                             f"completed in {3 * budget} ticks ({self.summary()})")

    def summary(self) -> str:
        """The regions as the driver knows them, with their live leaders (for failure sentences)."""
        return "; ".join(
            f"region {i.id} on stores {sorted(i.region.store_ids())} at conf_ver {i.region.epoch.conf_ver}, "
            f"leader {'on store ' + str(parse_name(lead.name).store_id) if lead else 'none'}"
            for i in self.pd.regions() for lead in [self.live_leader(i.id)])


@dataclass
class _Pending:
    process: int
    f: str
    key: bytes
    arg: Any
    value: Any  # the history value of the invoke
    attempt: int | None = None
    deadline: int = 0


@dataclass
class Clients:
    """Closed-loop clients sharing a few keys; each operation is recorded as invoke then
    ok / fail / info in distlab's history shape."""

    cluster: LabCluster
    n: int
    keys: list[bytes]
    seed: int = 0
    timeout: int = 40  # ticks before an unanswered command is recorded as indefinite
    history: list[dict[str, Any]] = field(default_factory=list)
    rng: random.Random = field(init=False)
    pending: dict[int, _Pending] = field(default_factory=dict)  # client -> op in flight
    process: dict[int, int] = field(default_factory=dict)
    seen: dict[bytes, Any] = field(default_factory=dict)
    attempts: int = 0
    seq: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(f"lab-clients/{self.seed}")
        self.process = {i: i for i in range(self.n)}

    def _record(self, process: int, type_: str, f: str, value: Any) -> None:
        self.history.append({"index": len(self.history), "time": float(self.cluster.now),
                             "process": process, "type": type_, "f": f, "value": value})

    def step(self, issue: bool = True) -> None:
        """Answer what was applied, propose what is waiting, start new operations."""
        c = self.cluster
        for i in sorted(self.pending):
            op = self.pending[i]
            out = c.outcomes.get(op.attempt) if op.attempt is not None else None
            if out is not None and out[0] != "refused":
                self._finish(i, op, out)
            elif c.now >= op.deadline and op.attempt is not None and out is None:
                self._record(op.process, "info", op.f, op.value)
                del self.pending[i]
                self.process[i] += self.n  # a crashed process never comes back (Jepsen)
            elif c.now >= op.deadline:
                # every attempt was refused at apply or never proposed: nothing of it applies
                self._record(op.process, "fail", op.f, op.value)
                del self.pending[i]
            elif out is not None or op.attempt is None:
                self._propose(op)  # refused (not applied) or never proposed: route again
        if not issue:
            return
        for i in range(self.n):
            if i not in self.pending:
                self._start(i)

    def run(self, f: str, key: bytes, arg: Any = None, tries: int = 10) -> tuple[str, Any]:
        """One operation by client 0, ticked until answered (TinyKV's MustPut / MustGet);
        it is part of the history like the others. An indefinite outcome is tried again."""
        for _ in range(tries):
            assert 0 not in self.pending
            self._start(0, (f, key, arg))
            for _ in range(self.timeout + 2):
                if 0 not in self.pending:
                    break
                self.cluster.tick()
                self.step(issue=False)
            last = self.history[-1]
            if last["type"] != "info" and 0 not in self.pending:
                return last["type"], last["value"]
        raise AssertionError(f"a {f} of {key!r} was never answered in {tries} tries of {self.timeout} ticks "
                             f"({self.cluster.summary()})")

    def _start(self, i: int, given: tuple[str, bytes, Any] | None = None) -> None:
        key = self.rng.choice(self.keys) if given is None else given[1]
        k = key.decode()
        roll = self.rng.random() if given is None else {"read": 0.0, "write": 0.5}[given[0]]
        self.seq += 1
        if given is not None and given[0] == "write":
            op = _Pending(self.process[i], "write", key, given[2], [k, given[2].decode()])
        elif roll < 0.4:
            op = _Pending(self.process[i], "read", key, None, [k, None])
        elif roll < 0.8:
            v = f"c{i}.{self.seq}"
            op = _Pending(self.process[i], "write", key, v.encode(), [k, v])
        else:
            old = self.seen.get(key)
            new = f"c{i}.{self.seq}"
            op = _Pending(self.process[i], "cas", key, (old, new.encode()),
                          [k, [None if old is None else old.decode(), new]])
        self._record(op.process, "invoke", op.f, op.value)
        op.deadline = self.cluster.now + self.timeout
        self.pending[i] = op
        if op.f == "read" and self.cluster.follower_reads:
            self._finish(i, op, ("ok", self._local_read(i, key)))
            return
        self._propose(op)

    def _local_read(self, i: int, key: bytes) -> bytes | None:
        """The bad variant: the nearest store's replica answers from what it has applied."""
        c = self.cluster
        home = sorted(c.replicas)[i % len(c.replicas)]
        for rep in c.replicas[home].values():
            if rep.region.contains(key) and home not in c.down:
                return rep.kv.get(key)
        info = c.pd.locate(key)
        rep = c.live_leader(info.id) if info is not None else None
        return rep.kv.get(key) if rep is not None else None

    def _propose(self, op: _Pending) -> None:
        c = self.cluster
        op.attempt = None
        info = c.pd.locate(op.key)
        rep = c.live_leader(info.id) if info is not None else None
        if rep is None or not is_leader(rep.core):
            return
        self.attempts += 1
        attempt, version = self.attempts, info.region.epoch.version
        if op.f == "read":
            cmd: tuple = ("get", attempt, op.key, version)
        elif op.f == "write":
            cmd = ("putx", attempt, op.key, version, op.arg)
        else:
            cmd = ("cas", attempt, op.key, version, op.arg[0], op.arg[1])
        if not propose(rep.core, cmd):
            return
        op.attempt = attempt
        c._pump(parse_name(rep.name).store_id, info.id)

    def _finish(self, i: int, op: _Pending, out: tuple[str, Any]) -> None:
        kind, got = out
        if op.f == "read":
            value = [op.value[0], None if got is None else got.decode()]
            if got is not None:
                self.seen[op.key] = got
        else:
            value = op.value
            if kind == "ok":
                self.seen[op.key] = op.arg if op.f == "write" else op.arg[1]
        self._record(op.process, kind, op.f, value)
        del self.pending[i]

    def drain(self, ticks: int = 120) -> None:
        """Stop starting operations; wait for the ones in flight (they end ok, fail or info)."""
        for _ in range(ticks):
            if not self.pending:
                return
            self.cluster.tick()
            self.step(issue=False)


@dataclass
class LabResult:
    name: str
    seed: int
    linearizable: Any
    explanation: str
    ops: int
    ok: int
    info: int
    splits: int
    conf_changes: int
    ticks: int
    seconds: float
    cluster: LabCluster = field(repr=False)
    history: list[dict[str, Any]] = field(repr=False)
    detail: str = ""  # what the scenario saw, in a few words (3C's scenarios)


def check_raft_safety(c: MultiRaftCluster) -> None:
    """Per region, beyond what the cluster asserts every tick (one leader per term, one
    entry per committed index): every replica's applied entries are the committed ones,
    and replicas that applied the same index hold the same data and region meta."""
    for store_id, reps in c.replicas.items():
        for region_id, rep in reps.items():
            for index, term, cmd in rep.applied:
                if c.committed.get((region_id, index)) != (term, cmd):
                    raise SafetyViolation(f"region {region_id}: store {store_id} applied an entry "
                                          f"at {index} that is not the committed one")
    by_region: dict[tuple[int, int], list[Replica]] = {}
    for reps in c.replicas.values():
        for region_id, rep in reps.items():
            by_region.setdefault((region_id, rep.applied_index), []).append(rep)
    for (region_id, index), group in by_region.items():
        first = group[0]
        for rep in group[1:]:
            if rep.kv != first.kv or rep.region != first.region:
                raise SafetyViolation(f"region {region_id}: {first.name} and {rep.name} "
                                      f"applied up to {index} but hold different data")


def generic(name: str, seed: int, *, nclients: int, unreliable: bool = False, crash: bool = False,
            confchange: bool = False, split: bool = False, snapshot: bool = False,
            partitions: bool = False, follower_reads: bool = False, stale_puts: bool = False,
            iterations: int = 3, ticks: int = 150, pieces: Pieces | None = None) -> LabResult:
    """TinyKV's GenericTest: `iterations` rounds of clients working for `ticks` ticks while
    the conf changer moves peers, splits happen, messages are lost and minorities are
    partitioned off; after each round, with `crash`, every store stops and restarts."""
    started = time.perf_counter()
    stores = [1, 2, 3, 4, 5]
    c = LabCluster(stores, initial_layout(1, [1, 2, 3]), seed=seed,
                   loss=0.1 if unreliable else 0.0, delay=0.1 if unreliable else 0.0,
                   follower_reads=follower_reads, stale_puts=stale_puts,
                   region_max_size=60 if split else None, pieces=pieces)
    c.pd.region_schedule_limit = 0  # the conf changer below decides the moves
    rng = random.Random(f"lab/{name}/{seed}")
    keys = [b"k%02d" % i for i in range(0, 40, 3)] if split else [b"k%d" % i for i in range(6)]
    clients = Clients(c, nclients, keys, seed=seed)
    c.tick(40)  # leader election
    moves = 0
    for _ in range(iterations):
        for t in range(ticks):
            c.tick()
            clients.step()
            if confchange and t % 20 == 10:
                moves += _confchange(c, rng, stores)
            if snapshot and t % 25 == 0:
                _compact_all(c)
            if partitions and t % 50 == 5:  # a minority of stores cut off for a while
                c.cut.update(rng.sample(stores, rng.choice([1, 2])))
            if partitions and t % 50 == 35:
                c.cut.clear()
            if crash and t == ticks // 3:
                victim = rng.choice(stores)  # beyond TinyKV: one store also dies mid-round
                c.down.add(victim)
            if crash and t == 2 * ticks // 3:
                c.restart_store(victim)
        c.cut.clear()
        clients.drain()
        if crash:
            c.down.update(stores)
            c.tick(5)
            for s in stores:
                c.restart_store(s)
            c.tick(40)
    c.set_loss(0.0)
    c.tick(60)
    check_raft_safety(c)
    result = check(clients.history, "keyed-cas-register", budget=20.0)
    types = [r["type"] for r in clients.history]
    return LabResult(name, seed, result.valid, "" if result.valid is True else result.explain(),
                     types.count("invoke"), types.count("ok") + types.count("fail"),
                     types.count("info"), len(c.initial) - 1, moves, c.now,
                     time.perf_counter() - started, c, clients.history)


def _lab(stores: list[int], peers: list[int], seed: int, **kw: Any) -> tuple[LabCluster, Clients]:
    c = LabCluster(stores, initial_layout(1, peers), seed=seed, **kw)
    c.pd.region_schedule_limit = 0  # only the scenario moves peers
    c.tick(40)
    return c, Clients(c, 1, [], seed=seed)


def _finish(name: str, seed: int, c: LabCluster, clients: Clients, started: float,
            moves: int = 0) -> LabResult:
    c.set_loss(0.0)
    c.cut.clear()
    c.tick(60)
    check_raft_safety(c)
    result = check(clients.history, "keyed-cas-register", budget=20.0)
    types = [r["type"] for r in clients.history]
    return LabResult(name, seed, result.valid, "" if result.valid is True else result.explain(),
                     types.count("invoke"), types.count("ok") + types.count("fail"),
                     types.count("info"), len(c.initial) - 1, moves, c.now,
                     time.perf_counter() - started, c, clients.history)


def _engine_get(c: LabCluster, store_id: int, key: bytes) -> bytes | None:
    """What store `store_id`'s engine holds for `key` (TinyKV's MustGetEqual on an engine)."""
    for rep in c.replicas[store_id].values():
        if key in rep.kv:
            return rep.kv[key]
    return None


def _settle(c: LabCluster, region_id: int, ticks: int = 200) -> None:
    """Tick until every replica of the region has applied what its leader has."""
    for _ in range(ticks // 5):
        lead = c.live_leader(region_id)
        if lead is not None and all(
                (r := c.replica(p.store_id, region_id)) is not None
                and r.applied_index >= lead.applied_index for p in lead.region.peers):
            return
        c.tick(5)
    raise AssertionError(f"region {region_id} did not settle")


def transfer_leader(seed: int = 0, pieces: Pieces | None = None) -> LabResult:
    """TestTransferLeader3B: the leadership of region 1 is handed to each store in turn."""
    started = time.perf_counter()
    c, cl = _lab([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], seed, pieces=pieces)
    for s in (1, 2, 3, 4, 5, 1):
        c.must(lambda s=s: c.transfer(1, s))
        cl.run("write", b"k%d" % s, b"v%d" % s)
        assert cl.run("read", b"k%d" % s) == ("ok", [f"k{s}", f"v{s}"])
    return _finish("TestTransferLeader3B", seed, c, cl, started)


def remove_leader(seed: int = 0, pieces: Pieces | None = None) -> LabResult:
    """TestConfChangeRemoveLeader3B: the leader's own peer is removed (it must hand over
    first, or the region would be left without a leader); a write made while store 1 is
    out of the region is not on store 1 until a new peer there catches up."""
    started = time.perf_counter()
    c, cl = _lab([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], seed, pieces=pieces)
    c.must(lambda: c.transfer(1, 1))
    c.must(lambda: c.transfer(1, 2) and c.propose_remove(1, 1))
    cl.run("write", b"k0", b"v0")
    _settle(c, 1)
    assert _engine_get(c, 1, b"k0") is None
    c.must(lambda: c.propose_add(1, 1))
    c.must(lambda: c.transfer(1, 1))
    cl.run("write", b"k1", b"v1")
    _settle(c, 1)
    assert _engine_get(c, 1, b"k0") == b"v0" and _engine_get(c, 1, b"k1") == b"v1"
    for s in (2, 3, 4):
        c.must(lambda s=s: c.transfer(1, 1) and c.propose_remove(1, s))
    c.must(lambda: c.transfer(1, 5) and c.propose_remove(1, 1))
    cl.run("write", b"k2", b"v2")
    _settle(c, 1)
    assert _engine_get(c, 1, b"k2") is None
    c.must(lambda: c.propose_add(1, 1))
    cl.run("write", b"k3", b"v3")
    _settle(c, 1)
    assert _engine_get(c, 3, b"k3") is None and _engine_get(c, 1, b"k3") == b"v3"
    assert sorted(c.live_leader(1).region.store_ids()) == [1, 5]
    return _finish("TestConfChangeRemoveLeader3B", seed, c, cl, started, moves=7)


def basic_conf_change(seed: int = 0, pieces: Pieces | None = None) -> LabResult:
    """TestBasicConfChange3B: region 1 on five stores shrinks to one peer and grows again;
    an added peer holds every key written before it joined, a removed one holds none."""
    started = time.perf_counter()
    c, cl = _lab([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], seed, pieces=pieces)

    def engine(store: int, key: bytes) -> bytes | None:
        _settle(c, 1)
        return _engine_get(c, store, key)

    c.must(lambda: c.transfer(1, 1))
    for s in (2, 3, 4, 5):
        c.must(lambda s=s: c.propose_remove(1, s))
    cl.run("write", b"k1", b"v1")
    assert engine(2, b"k1") is None
    c.must(lambda: c.propose_add(1, 2))
    cl.run("write", b"k2", b"v2")
    assert cl.run("read", b"k2") == ("ok", ["k2", "v2"])
    assert engine(2, b"k1") == b"v1" and engine(2, b"k2") == b"v2"
    assert c.live_leader(1).region.epoch.conf_ver > 1
    assert engine(5, b"k1") is None
    c.must(lambda: c.propose_add(1, 3))
    c.must(lambda: c.propose_remove(1, 2))
    cl.run("write", b"k3", b"v3")
    assert cl.run("read", b"k3") == ("ok", ["k3", "v3"])
    assert [engine(3, k) for k in (b"k1", b"k2", b"k3")] == [b"v1", b"v2", b"v3"]
    assert engine(2, b"k1") is None and engine(2, b"k2") is None
    c.must(lambda: c.propose_add(1, 2))
    assert [engine(2, k) for k in (b"k1", b"k2", b"k3")] == [b"v1", b"v2", b"v3"]
    c.must(lambda: c.propose_remove(1, 2))
    c.must(lambda: c.propose_add(1, 2))  # a new peer (a fresh id) on store 2
    c.must(lambda: c.propose_remove(1, 3))
    cl.run("write", b"k4", b"v4")
    assert engine(2, b"k1") == b"v1" and engine(2, b"k4") == b"v4"
    assert engine(3, b"k1") is None and engine(3, b"k4") is None
    assert sorted(c.live_leader(1).region.store_ids()) == [1, 2]
    return _finish("TestBasicConfChange3B", seed, c, cl, started, moves=8)


def one_split(seed: int = 0, pieces: Pieces | None = None) -> LabResult:
    """TestOneSplit3B: writes past the region's size split it while store 5 is cut off;
    the pieces tile the old range (k1 and k2 end in different regions), the left one answers a key of the right one with "key
    not in region", and store 5 gets the data once it is reconnected."""
    started = time.perf_counter()
    c, cl = _lab([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], seed, region_max_size=500, pieces=pieces)
    cl.run("write", b"k1", b"v1")
    cl.run("write", b"k2", b"v2")
    region = c.pd.locate(b"k1").region
    assert c.pd.locate(b"k2").id == region.id
    c.cut.add(5)
    for i in range(100, 200):
        cl.run("write", b"k%d" % i, b"v%d" % i)
    c.tick(40)
    c.cut.clear()
    c.tick(60)
    left, right = c.pd.locate(b"k1").region, c.pd.locate(b"k2").region
    assert left.id != right.id
    tiles = [i.region for i in c.pd.regions()]  # the halves (split again here) tile the range
    assert tiles[0].start_key == region.start_key and tiles[-1].end_key == region.end_key
    assert all(a.end_key == b.start_key for a, b in zip(tiles, tiles[1:], strict=False))
    # a get of k2 sent to the left region with its epoch is refused: key not in region
    lead = c.live_leader(left.id)
    c.outcomes.clear()
    propose(lead.core, ("get", -1, b"k2", left.epoch.version))
    c._pump(parse_name(lead.name).store_id, left.id)
    c.tick(10)
    assert c.outcomes[-1] == ("refused", None)
    assert cl.run("read", b"k2") == ("ok", ["k2", "v2"])
    _settle(c, c.pd.locate(b"k100").id)
    assert _engine_get(c, 5, b"k100") == b"v100"
    return _finish("TestOneSplit3B", seed, c, cl, started)


def _confchange(c: LabCluster, rng: random.Random, stores: list[int]) -> int:
    """TinyKV's confchanger, as moves (a region keeps three replicas): a random region's
    peer on a random store goes to a random store without one."""
    regions = [i for i in c.pd.regions() if i.id not in c.pd.operators()]
    if not regions:
        return 0
    info = rng.choice(regions)
    have = sorted(info.region.store_ids())
    free = [s for s in stores if s not in have and s not in c.down]
    if not free:
        return 0
    src, dst = rng.choice(have), rng.choice(free)
    c.pd._ops[info.id] = MovePeer(info.id, src, dst, c.pd.alloc_id(), info.region.epoch.version)
    return 1


def _compact_all(c: LabCluster) -> None:
    """TinyKV's RaftLogGcCountLimit: every replica compacts its log to what it has applied,
    so lagging and restarted peers catch up by snapshot."""
    for store_id, reps in c.replicas.items():
        if store_id in c.down:
            continue
        for rep in reps.values():
            applied = rep.core.applied if hasattr(rep.core, "applied") else rep.core.status().get("applied", 0)
            if rep.applied_index > rep.core.log.snapshot_index and applied >= rep.applied_index:
                rep.core.compact(rep.applied_index, (dict(rep.kv), rep.region))


def _generic(name: str, **kw: Any) -> Callable[..., LabResult]:
    """The GenericTest-based scenario `name`: a function of (seed, pieces)."""

    def run(seed: int, pieces: Pieces | None = None) -> LabResult:
        return generic(name, seed, pieces=pieces, **kw)

    run.__name__ = name
    return run


SCENARIOS: dict[str, Callable[..., LabResult]] = {
    "TestTransferLeader3B": transfer_leader,
    "TestBasicConfChange3B": basic_conf_change,
    "TestConfChangeRemoveLeader3B": remove_leader,
    "TestConfChangeRecover3B": _generic("TestConfChangeRecover3B", nclients=1, crash=True, confchange=True),
    "TestConfChangeUnreliable3B": _generic("TestConfChangeUnreliable3B", nclients=5, unreliable=True,
                                           confchange=True),
    "TestConfChangeRecoverManyClients3B": _generic("TestConfChangeRecoverManyClients3B", nclients=20,
                                                   crash=True, confchange=True),
    "TestConfChangeUnreliableRecover3B": _generic("TestConfChangeUnreliableRecover3B", nclients=5,
                                                  unreliable=True, crash=True, confchange=True),
    "TestConfChangeSnapshotUnreliableRecover3B": _generic(
        "TestConfChangeSnapshotUnreliableRecover3B", nclients=5, unreliable=True, crash=True,
        confchange=True, snapshot=True),
    "TestConfChangeSnapshotUnreliableRecoverConcurrentPartition3B": _generic(
        "TestConfChangeSnapshotUnreliableRecoverConcurrentPartition3B", nclients=5,
        unreliable=True, crash=True, partitions=True, confchange=True, snapshot=True),
    "TestOneSplit3B": one_split,
    "TestSplitRecover3B": _generic("TestSplitRecover3B", nclients=1, crash=True, split=True),
    "TestSplitRecoverManyClients3B": _generic("TestSplitRecoverManyClients3B", nclients=20, crash=True,
                                              split=True),
    "TestSplitUnreliable3B": _generic("TestSplitUnreliable3B", nclients=5, unreliable=True, split=True),
    "TestSplitUnreliableRecover3B": _generic("TestSplitUnreliableRecover3B", nclients=5, unreliable=True,
                                             crash=True, split=True),
    "TestSplitConfChangeSnapshotUnreliableRecover3B": _generic(
        "TestSplitConfChangeSnapshotUnreliableRecover3B", nclients=5, unreliable=True,
        crash=True, confchange=True, split=True, snapshot=True),
    "TestSplitConfChangeSnapshotUnreliableRecoverConcurrentPartition3B": _generic(
        "TestSplitConfChangeSnapshotUnreliableRecoverConcurrentPartition3B", nclients=5,
        unreliable=True, crash=True, partitions=True, confchange=True, split=True, snapshot=True),
}
"""TinyKV project 3B's scenarios, in the order of its test file; each takes a seed and the
pieces to run on (None: distlab's own)."""


__all__ = ["Clients", "LabCluster", "LabResult", "SCENARIOS", "basic_conf_change", "check_raft_safety",
           "generic", "one_split", "remove_leader", "transfer_leader"]
