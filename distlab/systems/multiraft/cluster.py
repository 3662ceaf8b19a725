"""Regions as real Raft groups on stores, moved by the placement driver: a deterministic,
in-memory simulation of TiKV's Multi-Raft layout (TinyKV project 3B/3C's shape).

Every region is one Raft group (distlab's RaftCore) with one peer per store holding it;
a peer is named "p<peer id>@s<store id>". Each tick every peer ticks, messages are routed
between peers (through the stores, none lost unless a store is down), and every region's
leader sends the placement driver a heartbeat built from what it has *applied*: the region
meta (range, epoch, peers), itself as leader, the region's size and the peers still
catching up. The step the driver hands back is carried out through Raft: AddPeer and
RemovePeer as membership changes (conf_ver + 1 when applied), TransferLeader as a leader
transfer. A store creates an added peer when the first message for it arrives (as TiKV
does) and drops it once its removal is applied by the leader.

Data: a put carries the region version it was routed with and is refused at apply if the
region has been split since (TiKV's EpochNotMatch). A leader whose region's data outgrows
`region_max_size` proposes a split at the middle key, with ids from the driver; every
replica applying it keeps the left half and creates the new region's peer on its store
with the right half's data (a peer born of a split is never made by an early message, or
it would start without that data). An added peer is brought up by a snapshot of the
region's data and meta (the leader compacts its log before proposing the addition).

Crashes: `down` freezes a store (no ticks, its messages lost); `restart_store` then
rebuilds every replica's Raft state from its disk, starting from the engine (data, meta,
applied index) as a snapshot, so volatile state is really lost.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from distlab.systems.raft.core import (
    LEADER,
    ConfChangeRefused,
    Message,
    NotLeader,
    Persisted,
    RaftCore,
    as_conf_change,
    conf_change,
)
from distlab.systems.raft.disk import Disk
from distlab.systems.raft.log import Snapshot

from .pd import AddPeer, PlacementDriver, RegionInfo, RemovePeer, TransferLeader
from .pieces import Pieces, TrackBalance, TrackTable
from .region import Epoch, Peer, Region


def peer_name(p: Peer) -> str:
    return f"p{p.id}@s{p.store_id}"


def parse_name(name: str) -> Peer:
    pid, sid = name[1:].split("@s")
    return Peer(int(pid), int(sid))


# A learner's Raft is seen only through RaftLike (status(), propose returning None when not
# the leader); distlab's own core is read directly, which keeps the hot paths cheap.
def is_leader(core: Any) -> bool:
    if isinstance(core, RaftCore):
        return core.role == LEADER
    return str(core.status().get("role")) == "leader"


def term_of(core: Any) -> int:
    return core.term if isinstance(core, RaftCore) else int(core.status()["term"])


def propose(core: Any, command: object) -> bool:
    """Propose; False if the node is not the leader (NotLeader raised or None returned)."""
    try:
        return core.propose(command) is not None
    except NotLeader:
        return False


def message_kind(m: Any) -> str:
    return str(getattr(m, "kind", type(m).__name__)).lower()


@dataclass
class Replica:
    """One peer of one region on one store: its Raft core and the region meta it has applied."""

    core: Any  # RaftLike (distlab's RaftCore unless a learner's Raft is plugged in)
    region: Region
    applied: list[tuple[int, int, object]] = field(default_factory=list)  # (index, term, command)
    kv: dict[bytes, bytes] = field(default_factory=dict)  # the region's data on this replica
    refused: list[tuple[object, str]] = field(default_factory=list)  # commands refused at apply
    disk: Disk = field(default_factory=Disk)  # Raft's stable storage
    applied_index: int = 0  # kv and region are the engine: durable, as of this entry
    applied_term: int = 0
    name: str = ""  # "p<peer id>@s<store id>"

    def data_size(self) -> int:
        return sum(len(k) + len(v) for k, v in self.kv.items())


class SafetyViolation(AssertionError):
    pass


class MultiRaftCluster:
    """Stores, their replicas, a placement driver and the wires between them."""

    def __init__(self, store_ids: list[int], regions: list[tuple[Region, int]], seed: int = 0,
                 pd: PlacementDriver | None = None, heartbeat_every: int = 5,
                 region_max_size: int | None = None, pieces: Pieces | None = None) -> None:
        self.rng = random.Random(f"multiraft/{seed}")
        self.seed = seed
        self.pd = pd or PlacementDriver()
        self.now = 0
        self.heartbeat_every = heartbeat_every
        self.region_max_size = region_max_size  # split a region whose data outgrows this
        self.down: set[int] = set()
        self.replicas: dict[int, dict[int, Replica]] = {s: {} for s in store_ids}  # store -> region
        self.initial: dict[int, Region] = {}
        self.sizes: dict[int, int] = {}
        self.inflight: list[Message] = []
        self.leaders: dict[tuple[int, int], str] = {}  # (region, term) -> leader name
        self.committed: dict[tuple[int, int], tuple[int, object]] = {}  # (region, index)
        self.verdicts: list[str] = []  # refusals from the PD, for tests to look at
        self.tombstones: set[str] = set()  # peers removed and dropped: never created again
        self.pieces = pieces or Pieces()
        self.factory = self.pieces.raft_factory()
        self.splitter = self.pieces.splitter()
        self.table = TrackTable(*self.pieces.table) if self.pieces.table else None
        if self.table is not None:
            self.pd.judge = self.table.judge
        self.balancer = TrackBalance(*self.pieces.balance) if self.pieces.balance else None
        if self.balancer is not None:
            self.pd.picker = self.balancer.pick
        self.transfers = 0  # leader transfers started (by the driver's operators or by hand)
        for s in store_ids:
            self.pd.put_store(s, now=0.0)
        for region, size in regions:
            self.initial[region.id] = region
            self.sizes[region.id] = size
            for p in region.peers:
                self._create(p, region)

    # ----- peers ------------------------------------------------------------------------
    def _create(self, peer: Peer, region: Region) -> Replica:
        voters = sorted(peer_name(p) for p in self.initial[region.id].peers)
        rng = random.Random(f"{self.seed}/{peer_name(peer)}")
        core = self.factory(peer_name(peer), voters, rng, Persisted())
        rep = Replica(core, self.initial[region.id], name=peer_name(peer))
        self.replicas[peer.store_id][region.id] = rep
        return rep

    def restart_store(self, store_id: int) -> None:
        """The store comes back from a crash: every replica's Raft state is rebuilt from its
        disk, with the engine (data, region meta, applied index) as the snapshot it starts
        from, as a TiKV store restarts from its KV engine and its Raft log."""
        self.down.discard(store_id)
        for region_id, rep in list(self.replicas[store_id].items()):
            name = rep.name
            voters = frozenset(peer_name(p) for p in rep.region.peers)
            snap = Snapshot(rep.applied_index, rep.applied_term, (dict(rep.kv), rep.region), voters)
            disk = rep.disk
            entries = [disk.log[i] for i in range(rep.applied_index + 1, disk.last + 1)]
            disk.snapshot = snap
            rng = random.Random(f"{self.seed}/{name}/{self.now}")
            initial = frozenset(peer_name(p) for p in self.initial[region_id].peers)
            rep.core = self.factory(name, sorted(initial | voters), rng, Persisted(disk.hard, snap, entries))
            self._pump(store_id, region_id)
        self.inflight = [m for m in self.inflight
                         if parse_name(m.src).store_id != store_id
                         and parse_name(m.dest).store_id != store_id]

    def replica(self, store_id: int, region_id: int) -> Replica | None:
        return self.replicas[store_id].get(region_id)

    def leader_of(self, region_id: int) -> Replica | None:
        best = None
        for reps in self.replicas.values():
            rep = reps.get(region_id)
            if rep is not None and is_leader(rep.core) and (best is None or term_of(rep.core) > term_of(best.core)):
                best = rep
        return best

    # ----- driving ----------------------------------------------------------------------
    def tick(self, n: int = 1) -> None:
        for _ in range(n):
            self.now += 1
            for store_id in sorted(self.replicas):
                if store_id in self.down:
                    continue
                self.pd.store_heartbeat(store_id, now=float(self.now))
                for region_id in sorted(self.replicas[store_id]):
                    rep = self.replicas[store_id].get(region_id)
                    if rep is not None:
                        rep.core.tick()
                        self._pump(store_id, region_id)
            self._deliver()
            if self.now % self.heartbeat_every == 0:
                self._heartbeats()
                self.pd.schedule(now=float(self.now))
            self._check()

    def _pump(self, store_id: int, region_id: int) -> None:
        rep = self.replicas[store_id].get(region_id)
        while rep is not None and rep.core.has_ready():
            rd = rep.core.ready()
            rep.disk.write(rd)
            self.inflight.extend(rd.messages)
            if rd.restore is not None:
                kv, region = rd.restore.data
                rep.kv, rep.region = dict(kv), region
                rep.applied_index, rep.applied_term = rd.restore.index, rd.restore.term
            for e in rd.committed:
                rep.applied_index, rep.applied_term = e.index, e.term
                rep.applied.append((e.index, e.term, e.command))
                known = self.committed.setdefault((region_id, e.index), (e.term, e.command))
                if known != (e.term, e.command):
                    raise SafetyViolation(f"region {region_id}: {rep.name} applied an entry of term {e.term} at "
                                          f"index {e.index}, where another replica applied one of term "
                                          f"{known[0]}: two different entries committed at one index")
                change = as_conf_change(e.command)
                if change is not None:
                    self._apply_conf(store_id, region_id, rep, *change)
                elif isinstance(e.command, tuple):
                    self._apply_admin(store_id, rep, e.command)
            rep.core.advance(rd)
            rep = self.replicas[store_id].get(region_id)

    def _apply_conf(self, store_id: int, region_id: int, rep: Replica, op: str, name: str) -> None:
        peer = parse_name(name)
        region = rep.region
        try:
            rep.region = region.add_peer(peer) if op == "add" else region.remove_peer(peer.id)
        except ValueError:
            return
        if op == "remove" and is_leader(rep.core):
            self.tombstones.add(name)  # garbage-collect the removed peer
            self.replicas[peer.store_id].pop(region_id, None)

    def _apply_admin(self, store_id: int, rep: Replica, cmd: tuple) -> None:
        """A put or a split, refused unless the command's region version is the replica's:
        a command proposed against a layout that has been cut since would write keys this
        region no longer owns (TiKV's EpochNotMatch)."""
        region = rep.region
        if cmd[0] == "put":
            _, key, value, version = cmd
            if version != region.epoch.version:
                rep.refused.append((cmd, "epoch not match"))
            elif not region.contains(key):
                rep.refused.append((cmd, "key not in region"))
            else:
                rep.kv[key] = value
            return
        _, keys, new_ids, new_peer_ids, version = cmd
        if isinstance(keys, bytes):  # one cut: ("split", key, new_id, peer_ids, version)
            keys, new_ids, new_peer_ids = (keys,), (new_ids,), (new_peer_ids,)
        if (version != region.epoch.version or not all(region.contains(k) for k in keys)
                or region.start_key in keys):
            rep.refused.append((cmd, "epoch not match"))
            return
        try:
            pieces = self.splitter.split(region, list(keys), list(new_ids), new_peer_ids)
        except ValueError as e:
            rep.refused.append((cmd, str(e)))
            return
        rep.region = pieces[0]
        base = self.sizes[region.id]
        for right in pieces[1:]:
            self.initial.setdefault(right.id, right)
            moved = {k: v for k, v in rep.kv.items() if right.contains(k)}
            for k in moved:
                del rep.kv[k]
            self.sizes.setdefault(right.id, base // len(pieces))
            new_peer = right.peer_on(store_id)
            if new_peer is not None and right.id not in self.replicas[store_id]:
                child = self._create(new_peer, right)
                child.kv = moved

    def put(self, key: bytes, value: bytes) -> bool:
        """A client write routed by the driver's region table; False if there is no leader
        to take it (the caller retries)."""
        info = self.pd.locate(key)
        if info is None:
            return False
        rep = self.leader_of(info.id)
        if rep is None:
            return False
        if not propose(rep.core, ("put", key, value, info.region.epoch.version)):
            return False
        self._pump(parse_name(rep.name).store_id, info.id)
        return True

    def get(self, key: bytes) -> bytes | None:
        """Read from the applied state of the leader of the region holding `key`."""
        for region_id in sorted(self.initial):
            rep = self.leader_of(region_id)
            if rep is not None and rep.region.contains(key):
                return rep.kv.get(key)
        return None

    def _deliver(self, limit: int = 100_000) -> None:
        for _ in range(limit):
            if not self.inflight:
                return
            m = self.inflight.pop(0)
            src, dest = parse_name(m.src), parse_name(m.dest)
            if src.store_id in self.down or dest.store_id in self.down:
                continue
            region_id = self._region_of_message(m)
            if region_id is None:
                continue
            rep = self.replicas[dest.store_id].get(region_id)
            if rep is None:
                kind = message_kind(m)
                if (m.dest in self.tombstones or not ("append" in kind or "snapshot" in kind)
                        or dest in self.initial[region_id].peers):
                    # only the leader's replication brings an added peer to life; a peer
                    # born of a split is made by its store applying the split (with the data)
                    continue
                rep = self._create(dest, self.initial[region_id])
            rep.core.step(m)
            self._pump(dest.store_id, region_id)
        raise AssertionError(f"messages kept causing messages within one tick ({limit} delivered at tick "
                             f"{self.now}): the Raft peers are in a livelock")

    def _region_of_message(self, m: Message) -> int | None:
        """Peer ids are unique in the cluster: the sender's replica says which region."""
        src = parse_name(m.src)
        for region_id, rep in self.replicas.get(src.store_id, {}).items():
            if rep.name == m.src:
                return region_id
        # the sender has been dropped since: look the peer up anywhere
        for reps in self.replicas.values():
            for region_id, rep in reps.items():
                if any(p.id == src.id for p in rep.region.peers):
                    return region_id
        return None

    def _heartbeats(self) -> None:
        for region_id in sorted(self.initial):
            rep = self.leader_of(region_id)
            if rep is None or parse_name(rep.name).store_id in self.down:
                continue
            core = rep.core
            pending = self._pending(region_id, rep)
            size = self.sizes[region_id] + rep.data_size()
            info = RegionInfo(rep.region, parse_name(rep.name).id, size, pending)
            if self.region_max_size is not None and rep.data_size() > self.region_max_size:
                self._propose_split(rep)
            verdict = self.pd.region_heartbeat(info)
            if not verdict.accepted:
                self.verdicts.append(verdict.reason)
                continue
            step = verdict.step
            try:
                if isinstance(step, AddPeer):
                    # The new peer starts empty; the region's log alone does not rebuild its
                    # data (a region born of a split got its first keys from the parent's
                    # log), so the leader compacts: the new peer is then sent a snapshot
                    # of the data and meta, as TiKV sends one to every added peer.
                    if rep.applied_index > core.log.snapshot_index:
                        core.compact(rep.applied_index, (dict(rep.kv), rep.region))
                    if core.log.snapshot_index > 0:
                        propose(core, conf_change("add", peer_name(step.peer)))
                elif isinstance(step, RemovePeer):
                    target = next(p for p in rep.region.peers if p.id == step.peer_id)
                    propose(core, conf_change("remove", peer_name(target)))
                elif isinstance(step, TransferLeader):
                    target = next(p for p in rep.region.peers if p.id == step.to_peer_id)
                    core.transfer_leader(peer_name(target))
                    self.transfers += 1
            except (NotLeader, ConfChangeRefused, ValueError):
                pass  # retried on the next heartbeat
            self._pump(parse_name(rep.name).store_id, region_id)

    def _pending(self, region_id: int, rep: Replica) -> frozenset[int]:
        """The peers still catching up: from the leader's progress (distlab's core), or,
        for a Raft that does not expose it, the replicas that have not applied up to the
        leader's commit index."""
        core = rep.core
        if isinstance(core, RaftCore):
            return frozenset(parse_name(n).id for n, pr in core.progress.items()
                             if pr.match < core.commit_index)
        commit = int(core.status()["commit"])
        out = set()
        for p in rep.region.peers:
            other = self.replicas[p.store_id].get(region_id)
            if other is not rep and (other is None or other.applied_index < commit):
                out.add(p.id)
        return frozenset(out)

    def _propose_split(self, rep: Replica) -> None:
        """The split checker on the leader (distlab's: the middle key by size; a learner's:
        split_keys), with ids from the driver. Proposed again on later heartbeats while
        still too big; a duplicate carries the old version and is refused at apply."""
        keys = self.splitter.keys(rep.region, [(k, len(k) + len(v)) for k, v in rep.kv.items()],
                                  self.region_max_size or 0)
        known = self.pd.region(rep.region.id)
        if not keys or known is None or known.region != rep.region:
            return  # ids are allocated for the peers the driver knows: wait until it agrees
        asked = [self.pd.ask_split(rep.region.id) for _ in keys]
        if len(keys) == 1:  # distlab's one-cut shape
            cmd: tuple = ("split", keys[0], asked[0][0], tuple(asked[0][1]), rep.region.epoch.version)
        else:
            cmd = ("split", tuple(keys), tuple(a[0] for a in asked), tuple(tuple(a[1]) for a in asked),
                   rep.region.epoch.version)
        propose(rep.core, cmd)

    # ----- safety -----------------------------------------------------------------------
    def _check(self) -> None:
        """Per region: one leader per term; committed entries agree (checked on apply);
        and every few ticks, each replica's log holds, up to its own commit index, the
        entries committed there (the last `LOG_WINDOW` of them): a node that lets a stale
        leader overwrite or truncate committed entries is caught even before it applies
        anything wrong."""
        check_logs = self.now % 3 == 0
        for reps in self.replicas.values():
            for region_id, rep in reps.items():
                core = rep.core
                if is_leader(core):
                    key = (region_id, term_of(core))
                    if self.leaders.setdefault(key, rep.name) != rep.name:
                        raise SafetyViolation(f"region {region_id} has two leaders in term {key[1]}")
                if check_logs:
                    self._check_log(region_id, rep)

    LOG_WINDOW = 8

    def _check_log(self, region_id: int, rep: Replica) -> None:
        core = rep.core
        commit = core.commit_index if isinstance(core, RaftCore) else int(core.status()["commit"])
        log = core.log
        if commit > log.last_index:
            raise SafetyViolation(f"region {region_id}: {rep.name} has committed up to {commit} but its log "
                                  f"ends at {log.last_index}: committed entries were dropped")
        for i in range(max(log.snapshot_index + 1, commit - self.LOG_WINDOW + 1), commit + 1):
            known = self.committed.get((region_id, i))
            if known is None:
                continue
            e = log.entry(i)
            if (e.term, e.command) != known:
                raise SafetyViolation(f"region {region_id}: {rep.name}'s log holds at {i} an entry of term "
                                      f"{e.term}, but the entry committed there is of term {known[0]}: a "
                                      "committed entry was overwritten")


def initial_layout(n_regions: int, stores: list[int], size: int = 10) -> list[tuple[Region, int]]:
    """n regions tiling the key space (cut at b"r01", b"r02", ...), each with a peer on each
    of `stores`; peer ids 100 * region + store."""
    out = []
    for r in range(1, n_regions + 1):
        start = b"" if r == 1 else b"r%02d" % (r - 1)
        end = b"" if r == n_regions else b"r%02d" % r
        peers = tuple(Peer(100 * r + s, s) for s in stores)
        out.append((Region(r, start, end, Epoch(1, 1), peers), size))
    return out


__all__ = ["MultiRaftCluster", "Replica", "SafetyViolation", "initial_layout", "is_leader", "peer_name",
           "propose", "term_of"]
