"""The pieces a learner writes in TinyKV projects 3A-3C, as one seam into the Multi-Raft
cluster: the Raft (3A), the region split (3B's split checker and batch split) and the
placement driver's region heartbeats and balance-region rule (3C). Each defaults to
distlab's own, so the cluster is one cluster whichever pieces it runs with.

The contracts are the ones the learner already met:

* Raft: a factory `factory(node_id, peers, rng, persisted)` returning a node that is
  `RaftLike` (distlab/systems/raft/interface.py, what `distlab raft-test` takes) and also
  has `compact(index, data)` (an added peer is brought up by a snapshot) and
  `transfer_leader(target)`; membership changes are proposed as distlab's
  `conf_change("add" | "remove", node)` commands. `peers` is the configuration the node
  starts with when its persisted state says none: a peer added to a running region is
  *not* among them, and must not campaign until its log or snapshot makes it a voter.
* Split: the Sharder track's task 12 (sharder/region-split): `split_keys(entries,
  max_size, split_size)`, `split(region, keys, new_ids)` and the `Region(id, start, end,
  version, conf_ver)` dataclass, in one module.
* PD: tasks 13 and 14: `balance(stores, regions, max_replicas)` over `Store(id, up,
  region_size)` and `RegionInfo(id, size, peers)`, and `class RegionTable` with
  `heartbeat(region) -> bool` and `regions()`.

A learner's piece is held to its contract while the cluster runs: split keys other than
the track's rule gives, a split whose pieces do not tile the region or whose epoch is wrong, a heartbeat verdict other than the epoch rule's,
a balance decision that breaks the rule: each raises `ContractViolation` with a sentence
in the learner's terms, so the scenario fails there, naming the call.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from distlab.loadfile import import_file
from distlab.systems.raft.core import Config, Persisted, RaftCore
from distlab.systems.raft.interface import check_raft
from distlab.systems.raft.suite import Overran, within

from .pd import RegionInfo, StoreInfo, balance_region
from .region import Epoch, Peer, Region, split_check

RaftFactory = Callable[[str, list[str], random.Random, Persisted], Any]


class ContractViolation(AssertionError):
    """A learner's piece answered against its contract while the cluster ran."""


class PieceError(Exception):
    """A piece cannot be loaded or does not have its contract's shape: one line, exit 2."""


def core_factory(mutants: frozenset[str] = frozenset()) -> RaftFactory:
    """distlab's RaftCore (with the named classic bugs, if any) as a region-lab factory."""

    def make(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> Any:
        voters = frozenset(peers)
        return RaftCore(node_id, sorted(voters | {node_id}), rng,
                        Config(voters=voters, mutants=frozenset(mutants)), persisted)

    return make


def _fmt(r: Any) -> str:
    end = repr(r.end) if r.end else "no end"
    return f"region {r.id} [{r.start!r}, {end}) version {r.version} conf_ver {r.conf_ver}"


class TrackSplit:
    """A split piece in sharder/region-split's shape, seen as the cluster uses it."""

    def __init__(self, split_keys: Callable[..., Any], split: Callable[..., Any], region_cls: type) -> None:
        self.split_keys_fn, self.split_fn, self.region_cls = split_keys, split, region_cls

    def keys(self, region: Region, sizes: list[tuple[bytes, int]], max_size: int) -> list[bytes]:
        """Where to cut: split_keys over the region's keys in order, with TiKV's split size
        (two thirds of the maximum). The keys must be increasing and inside the region."""
        entries = sorted((k, s) for k, s in sizes if region.contains(k))
        split_size = max(1, 2 * max_size // 3)
        call = f"split_keys({len(entries)} keys totalling {sum(s for _, s in entries)} bytes, " \
               f"max_size={max_size}, split_size={split_size})"
        got = _call(call, self.split_keys_fn, list(entries), max_size, split_size)
        if not isinstance(got, list):
            raise ContractViolation(f"{call} returned {got!r}, not a list of keys")
        keys = [bytes(k) for k in got]
        prev = region.start_key
        for k in keys:
            if not k > prev or not region.contains(k):
                raise ContractViolation(f"{call} returned {keys!r}: split keys must be increasing and "
                                        f"strictly inside the region [{region.start_key!r}, {region.end_key!r})")
            prev = k
        want = track_split_keys(entries, max_size, split_size)
        if keys != want:
            # Checked exactly, as the heartbeat and balance pieces are: a split checker that
            # never cuts, or cuts once where several pieces are due, still gave linearizable
            # runs (the regions just stay big), so only the rule itself can catch it.
            raise ContractViolation(
                f"{call} returned {keys!r}; the rule gives {want!r}: nothing while the region holds "
                "at most max_size bytes, else a new piece at each key reached once the piece so far "
                "holds split_size bytes or more")
        return keys

    def split(self, region: Region, keys: list[bytes], new_ids: list[int],
              new_peer_ids: Sequence[Sequence[int]]) -> list[Region]:
        """The regions after the batch split, checked against the contract: pieces tile the
        region in key order, the original keeps the leftmost, new_ids[i] the piece at
        keys[i], every piece at version + len(keys), conf_ver unchanged."""
        before = self.region_cls(region.id, region.start_key, region.end_key,
                                 region.epoch.version, region.epoch.conf_ver)
        call = f"split({_fmt(before)}, keys {[bytes(k) for k in keys]!r}, new ids {list(new_ids)})"
        got = _call(call, self.split_fn, before, list(keys), list(new_ids))
        if not isinstance(got, list) or len(got) != len(keys) + 1:
            raise ContractViolation(f"{call} returned {got!r}; expected {len(keys) + 1} regions")
        bounds = [region.start_key, *keys, region.end_key]
        ids = [region.id, *new_ids]
        want_version = region.epoch.version + len(keys)
        out = []
        for i, r in enumerate(got):
            if (bytes(r.start), bytes(r.end)) != (bounds[i], bounds[i + 1]):
                other = ("overlaps its neighbour" if i and bytes(r.start) < bounds[i]
                         else "leaves a gap or is out of place")
                raise ContractViolation(
                    f"{call} gave {_fmt(r)}, which {other}: the pieces must tile the region in "
                    f"key order, piece {i} being [{bounds[i]!r}, {bounds[i + 1]!r}); two regions "
                    "serving one key would each accept writes to it")
            if r.id != ids[i]:
                raise ContractViolation(f"{call} gave the piece at {bounds[i]!r} id {r.id}; expected {ids[i]} "
                                        "(the original region keeps the leftmost piece)")
            if r.version != want_version:
                raise ContractViolation(
                    f"{call} gave {_fmt(r)}; expected version {want_version} (the old version plus the "
                    f"number of new regions): a request or heartbeat still carrying version "
                    f"{region.epoch.version} and the old range would be taken as current")
            if r.conf_ver != region.epoch.conf_ver:
                raise ContractViolation(f"{call} gave {_fmt(r)}; expected conf_ver {region.epoch.conf_ver} "
                                        "(a split does not change membership)")
            epoch = Epoch(r.version, r.conf_ver)
            if i == 0:
                out.append(Region(region.id, bounds[0], bounds[1], epoch, region.peers))
            else:
                peers = tuple(Peer(pid, p.store_id)
                              for pid, p in zip(new_peer_ids[i - 1], region.peers, strict=True))
                out.append(Region(ids[i], bounds[i], bounds[i + 1], epoch, peers))
        return out


def track_split_keys(entries: Sequence[tuple[bytes, int]], max_size: int, split_size: int) -> list[bytes]:
    """The Sharder track's split rule (sharder/region-split), which a learner's split_keys
    must give exactly: the contract region-lab holds it to."""
    if sum(size for _, size in entries) <= max_size:
        return []
    keys: list[bytes] = []
    held = 0
    for key, size in entries:
        if held >= split_size:
            keys.append(key)
            held = 0
        held += size
    return keys


class OwnSplit:
    """distlab's own: the middle key by size (one cut), Region.split."""

    def keys(self, region: Region, sizes: list[tuple[bytes, int]], max_size: int) -> list[bytes]:
        key = split_check(region, sizes, max_size)
        return [] if key is None else [key]

    def split(self, region: Region, keys: list[bytes], new_ids: list[int],
              new_peer_ids: Sequence[Sequence[int]]) -> list[Region]:
        out: list[Region] = []
        rest = region
        for key, rid, pids in zip(keys, new_ids, new_peer_ids, strict=True):
            left, rest = rest.split(key, rid, list(pids))
            out.append(left)
        return [*out, rest]


def _call(what: str, fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except ContractViolation:
        raise
    except Exception as exc:  # noqa: BLE001 - the learner's bug, as a sentence
        tb = exc.__traceback__
        where = ""
        while tb is not None:
            if "/distlab/" not in tb.tb_frame.f_code.co_filename:
                where = f" (at {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno})"
            tb = tb.tb_next
        raise ContractViolation(f"{what} raised {type(exc).__name__}: {exc}{where}") from None


def _fmt_epoch(r: Region) -> str:
    return f"version {r.epoch.version}, conf_ver {r.epoch.conf_ver}"


class TrackTable:
    """A RegionTable (sharder/heartbeats) judging the placement driver's heartbeats: its
    verdict must be the epoch rule's (refuse exactly the stale reports)."""

    def __init__(self, table_cls: type, region_cls: type) -> None:
        self.table = _call("RegionTable()", table_cls)
        self.region_cls = region_cls

    def judge(self, report: Region, own: str | None) -> str | None:
        r = self.region_cls(report.id, report.start_key, report.end_key, report.epoch.version,
                            report.epoch.conf_ver)
        took = _call(f"RegionTable.heartbeat({_fmt(r)})", self.table.heartbeat, r)
        if not isinstance(took, bool):
            raise ContractViolation(f"RegionTable.heartbeat({_fmt(r)}) returned {took!r}, not True or False")
        if took and own is not None:
            raise ContractViolation(f"your RegionTable took a stale heartbeat: {own}; a stale report "
                                    "must be refused, or the driver acts on a layout that no longer exists")
        if not took and own is None:
            raise ContractViolation(f"your RegionTable refused region {report.id}'s heartbeat at "
                                    f"{_fmt_epoch(report)} though nothing newer is known: only a report "
                                    "older in version or conf_ver is stale")
        return own

    def regions(self) -> list[tuple[int, bytes, bytes, int, int]]:
        got = _call("RegionTable.regions()", self.table.regions)
        return [(r.id, bytes(r.start), bytes(r.end), r.version, r.conf_ver) for r in got]


class TrackBalance:
    """A balance function (sharder/balance) as the driver's scheduler; every decision is
    held to the rule: the source up and holding the region, the target up and holding no
    peer of it, the region fully replicated, the gap more than twice its size."""

    def __init__(self, balance: Callable[..., Any], store_cls: type, info_cls: type) -> None:
        self.balance, self.store_cls, self.info_cls = balance, store_cls, info_cls
        self.decisions = 0

    def pick(self, stores: list[StoreInfo], regions: list[RegionInfo], now: float,
             max_store_down_time: float, max_replicas: int) -> tuple[RegionInfo, int, int] | None:
        ups = {s.id: s.suitable(now, max_store_down_time) for s in stores}
        size = {s.id: s.region_size for s in stores}
        st = [self.store_cls(s.id, ups[s.id], s.region_size) for s in stores]
        rs = [self.info_cls(r.id, r.size(), tuple(sorted(r.region.store_ids()))) for r in regions]
        call = f"balance({len(st)} stores, {len(rs)} regions, max_replicas={max_replicas})"
        got = _call(call, self.balance, st, rs, max_replicas)
        if got is None:
            want = self.rule(stores, regions, now, max_store_down_time, max_replicas)
            if want is not None:
                raise ContractViolation(
                    f"{call} returned None, but moving region {want[0].id} (size {want[0].size()}) from "
                    f"store {want[1]} (size {size[want[1]]}) to store {want[2]} (size {size[want[2]]}) "
                    "qualifies: the gap is more than twice the region's size")
            return None
        try:
            rid, src, dst = got
        except (TypeError, ValueError):
            raise ContractViolation(f"{call} returned {got!r}, not (region id, from store, to store) "
                                    "or None") from None
        info = next((r for r in regions if r.id == rid), None)
        if info is None:
            raise ContractViolation(f"{call} moved region {rid}, which is not among the regions given")
        held = info.region.store_ids()
        what = f"{call} moved region {rid} (size {info.size()}) from store {src} to store {dst}"
        if src not in held:
            raise ContractViolation(f"{what}, but store {src} holds no peer of it")
        if dst in held:
            raise ContractViolation(f"{what}, which already holds a peer of it: two replicas on one store")
        for s in (src, dst):
            if s not in ups:
                raise ContractViolation(f"{what}: there is no store {s}")
            if not ups[s]:
                raise ContractViolation(f"{what}: store {s}, which is down (no heartbeat within "
                                        f"{max_store_down_time:g} ticks) or offline")
        if len(held) < max_replicas:
            raise ContractViolation(f"{what}, which has {len(held)} peers of {max_replicas}: a region "
                                    "being repaired is left alone")
        gap = size[src] - size[dst]
        if gap <= 2 * info.size():
            raise ContractViolation(f"{what}: the gap, {gap}, is not more than twice the region's size "
                                    f"({2 * info.size()}), so the next round would move it back")
        want = self.rule(stores, regions, now, max_store_down_time, max_replicas)
        if want is not None and (want[0].id, want[1], want[2]) != (rid, src, dst):
            raise ContractViolation(
                f"{what}; the rule picks region {want[0].id} from store {want[1]} to store {want[2]} "
                "(sources from the largest region size down, ties to the smaller id; on a source, its "
                "regions by id; the target the up store with the smallest size holding no peer)")
        self.decisions += 1
        return info, src, dst

    @staticmethod
    def rule(stores: list[StoreInfo], regions: list[RegionInfo], now: float, max_store_down_time: float,
             max_replicas: int) -> tuple[RegionInfo, int, int] | None:
        """The track's deterministic rule: distlab's balance_region with no leader or pending
        peer known, so a source's regions are taken by id alone."""
        plain = [replace(r, leader_id=None, pending_peers=frozenset()) for r in regions]
        pick = balance_region(stores, plain, now=now, max_store_down_time=max_store_down_time,
                              max_replicas=max_replicas)
        if pick is None:
            return None
        info, src, dst = pick
        return next(r for r in regions if r.id == info.id), src, dst


@dataclass(frozen=True)
class Pieces:
    """What the cluster is built from; None: distlab's own."""

    raft: RaftFactory | None = None
    split: TrackSplit | None = None
    table: tuple[type, type] | None = None  # (RegionTable, Region) classes
    balance: tuple[Callable[..., Any], type, type] | None = None  # (balance, Store, RegionInfo)
    names: tuple[tuple[str, str], ...] = ()  # piece -> where it came from, for messages
    # The read path (3B's raftstore): False, a get goes through the region's Raft log;
    # True, the known-bad shortcut of answering from the nearest replica's applied state.
    follower_reads: bool = False

    def raft_factory(self) -> RaftFactory:
        return self.raft or core_factory()

    def splitter(self) -> TrackSplit | OwnSplit:
        return self.split or OwnSplit()

    def describe(self) -> str:
        given = dict(self.names)
        own = "distlab's"
        parts = [f"{p}: {given.get(p, own)}" for p in ("raft", "split", "heartbeats", "balance")]
        return ", ".join(parts + ([f"reads: {given['reads']}"] if "reads" in given else []))


# --- loading ------------------------------------------------------------------------

def load_module(where: str, what: str) -> Any:
    """A module by dotted name or by file path (FILE.py)."""
    try:
        if where.endswith(".py"):
            path = Path(where)
            if not path.is_file():
                raise PieceError(f"{what} {where}: no such file")
            return import_file(path, f"_region_lab_{path.stem}_{abs(hash(str(path.resolve())))}")
        return importlib.import_module(where)
    except PieceError:
        raise
    except Exception as exc:  # noqa: BLE001 - the learner's module failed to import
        raise PieceError(f"{what} {where}: cannot import it: {type(exc).__name__}: {exc}") from None


def _member(module: Any, name: str, what: str, contract: str) -> Any:
    value = getattr(module, name, None)
    if value is None or not callable(value):
        raise PieceError(f"{what} defines no {name} ({contract})")
    return value


def load_raft(spec: str, timeout: float = 120.0) -> RaftFactory:
    """MODULE:FACTORY or FILE.py:FACTORY, probed on one node: RaftLike plus compact and
    transfer_leader. The probe runs before any scenario's alarm, so it has its own: a
    factory still running after `timeout` seconds is a PieceError, not a hung command."""
    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name:
        raise PieceError(f"--raft {spec!r} is not MODULE:FACTORY (e.g. myraft:make or myraft.py:make)")
    factory = _member(load_module(where, "--raft"), name, f"--raft {where}", "the Raft factory")

    def build() -> tuple[Any, str | None]:
        node = factory("p1@s1", ["p1@s1", "p2@s2", "p3@s3"], random.Random(0), Persisted())
        return node, check_raft(node)

    try:
        node, problem = within(timeout, build)
    except Overran:
        raise PieceError(f"--raft {spec}: the factory did not return a node within {timeout:g} s "
                         "(an endless loop in it, or in the node's constructor?)") from None
    except Exception as exc:  # noqa: BLE001
        raise PieceError(f"--raft {spec}: the factory failed to build a node: {type(exc).__name__}: {exc}") from None
    problems = [problem] if problem else []
    lacks = [m for m in ("compact", "transfer_leader") if not callable(getattr(node, m, None))]
    if lacks:
        problems.append(f"the node lacks {', '.join(lacks)} (region-lab brings added peers up by snapshot "
                        "and moves leaders off stores: compact(index, data), transfer_leader(target))")
    if problems:
        raise PieceError(f"--raft {spec}: " + "; ".join(problems))
    return factory  # type: ignore[no-any-return]


class _Probe:
    """The learner's call a shape check is in, so that one still running when the time is up
    is named (`within` ends it with an alarm, a BaseException the learner's own `except
    Exception` cannot swallow)."""

    def __init__(self) -> None:
        self.call = ""

    def __call__(self, call: str) -> None:
        self.call = call

    def overran(self, flag: str, spec: str, timeout: float) -> PieceError:
        return PieceError(f"{flag} {spec}: {self.call} did not return within {timeout:g} s "
                          "(an endless loop in it?)")


def load_split(spec: str, timeout: float = 120.0) -> TrackSplit:
    """MODULE:FUNC naming split_keys; split and Region come from the same module. Their
    shape check runs before any scenario's alarm, so it has its own: a call still running
    after `timeout` seconds is a PieceError naming it, not a hung command."""
    where, sep, name = spec.rpartition(":")
    if not sep or not where:
        where, name = spec, "split_keys"
    name = name or "split_keys"  # FILE.py: with nothing after the colon
    module = load_module(where, "--split")
    contract = "see the Sharder track's region-split task"
    keys = _member(module, name, f"--split {where}", contract)
    split = _member(module, "split", f"--split {where}", contract)
    region_cls = _member(module, "Region", f"--split {where}", "the Region(id, start, end, version, conf_ver) dataclass")
    at = _Probe()

    def probe() -> None:
        at("Region(1, b'', b'', 1, 1)")
        r = region_cls(1, b"", b"", 1, 1)
        at("split(Region(1, b'', b'', 1, 1), [b'm'], [2])")
        pieces = split(r, [b"m"], [2])
        assert isinstance(pieces, list) and all(hasattr(p, a) for p in pieces
                                                for a in ("id", "start", "end", "version", "conf_ver"))
        at(f"{name}([(b'a', 30), (b'b', 30)], 100, 60)")
        got = keys([(b"a", 30), (b"b", 30)], 100, 60)
        assert isinstance(got, list)

    try:
        within(timeout, probe)
    except Overran:
        raise at.overran("--split", spec, timeout) from None
    except Exception as exc:  # noqa: BLE001
        detail = f": {type(exc).__name__}: {exc}" if str(exc) else ""
        raise PieceError(f"--split {spec}: split(Region(1, b'', b'', 1, 1), [b'm'], [2]) must return a "
                         f"list of Regions and split_keys a list of keys ({contract}){detail}") from None
    return TrackSplit(keys, split, region_cls)


def _probe_table(at: _Probe, table_cls: type, region_cls: type) -> None:
    at("RegionTable()")
    t = table_cls()
    at("RegionTable().heartbeat(Region(1, b'', b'', 1, 1))")
    ok = t.heartbeat(region_cls(1, b"", b"", 1, 1))
    at("RegionTable().regions()")
    regions = t.regions()
    assert isinstance(ok, bool) and isinstance(regions, list)


def _probe_balance(at: _Probe, balance: Callable[..., Any], store_cls: type, info_cls: type) -> None:
    at("balance([Store(1, True, 0)], [RegionInfo(1, 1, (1,))], 3)")
    got = balance([store_cls(1, True, 0)], [info_cls(1, 1, (1,))], 3)
    assert got is None or len(got) == 3


def load_pd(specs: Sequence[str], timeout: float = 120.0
            ) -> tuple[tuple[type, type] | None, tuple[Callable[..., Any], type, type] | None,
                       list[tuple[str, str]]]:
    """Modules defining RegionTable (with Region) and/or balance (with Store and RegionInfo).
    Each shape check is bounded by `timeout` seconds, as --split's."""
    table = balance = None
    names: list[tuple[str, str]] = []
    for spec in specs:
        module = load_module(spec, "--pd")
        found = False
        if getattr(module, "RegionTable", None) is not None:
            if table is not None:
                raise PieceError(f"--pd {spec}: RegionTable is given twice")
            region_cls = _member(module, "Region", f"--pd {spec}", "the Region dataclass the table takes")
            at = _Probe()
            try:
                within(timeout, partial(_probe_table, at, module.RegionTable, region_cls))
            except Overran:
                raise at.overran("--pd", spec, timeout) from None
            except Exception as exc:  # noqa: BLE001
                raise PieceError(f"--pd {spec}: RegionTable().heartbeat(Region(1, b'', b'', 1, 1)) must "
                                 f"return a bool and regions() a list (see the Sharder track's heartbeats "
                                 f"task): {type(exc).__name__}: {exc}") from None
            table, found = (module.RegionTable, region_cls), True
            names.append(("heartbeats", spec))
        if getattr(module, "balance", None) is not None:
            if balance is not None:
                raise PieceError(f"--pd {spec}: balance is given twice")
            store_cls = _member(module, "Store", f"--pd {spec}", "the Store(id, up, region_size) dataclass")
            info_cls = _member(module, "RegionInfo", f"--pd {spec}", "the RegionInfo(id, size, peers) dataclass")
            at = _Probe()
            try:
                within(timeout, partial(_probe_balance, at, module.balance, store_cls, info_cls))
            except Overran:
                raise at.overran("--pd", spec, timeout) from None
            except Exception as exc:  # noqa: BLE001
                raise PieceError(f"--pd {spec}: balance(stores, regions, max_replicas) must return "
                                 "(region id, from store, to store) or None (see the Sharder track's "
                                 f"balance task): {type(exc).__name__}: {exc}") from None
            balance, found = (module.balance, store_cls, info_cls), True
            names.append(("balance", spec))
        if not found:
            raise PieceError(f"--pd {spec} defines neither RegionTable nor balance")
    return table, balance, names


def load_pieces(raft: str | None = None, split: str | None = None, pd: Sequence[str] = (),
                mutants: frozenset[str] = frozenset(), follower_reads: bool = False,
                timeout: float = 120.0) -> Pieces:
    """The pieces named on the command line (PieceError: one line naming the cause);
    `timeout` bounds building the probe node of --raft and each shape check of --split and
    --pd, as it bounds each scenario."""
    names: list[tuple[str, str]] = []
    factory = None
    if raft:
        factory = load_raft(raft, timeout)
        names.append(("raft", raft))
    elif mutants:
        factory = core_factory(mutants)
        names.append(("raft", f"distlab's with {', '.join(sorted(mutants))}"))
    splitter = load_split(split, timeout) if split else None
    if split:
        names.append(("split", split))
    table, balance, pd_names = load_pd(pd, timeout)
    if follower_reads:
        names.append(("reads", "from the nearest replica (known-bad)"))
    return Pieces(factory, splitter, table, balance, (*names, *pd_names), follower_reads)


__all__ = ["ContractViolation", "OwnSplit", "PieceError", "Pieces", "RaftFactory", "TrackBalance",
           "TrackSplit", "TrackTable", "core_factory", "load_pieces", "track_split_keys"]
