"""Regions in TiKV's shape: contiguous key ranges, each one Raft group, told apart by epoch.

A region is [start_key, end_key) of an ordered key space (b"" as end_key: no end), served
by one peer on each of a few stores. Its epoch has two counters so any holder of a region
description can tell which of two is newer: `version` grows when the range changes (a
split), `conf_ver` when the membership changes (a peer added or removed). Everything here
is immutable: an operation returns new regions, so an old description stays what it was
(and is recognisably stale).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Epoch:
    """(version, conf_ver) as metapb.RegionEpoch."""

    version: int = 1
    conf_ver: int = 1

    def older_than(self, known: Epoch) -> bool:
        """Stale against `known`: behind in either counter. A report older in only one of
        them still describes a layout (range or membership) that has been replaced."""
        return self.version < known.version or self.conf_ver < known.conf_ver


@dataclass(frozen=True)
class Peer:
    """One replica of a region: its own id (unique in the cluster) and the store it lives on."""

    id: int
    store_id: int


class RegionError(ValueError):
    """An operation that would make an ill-formed region (key outside it, duplicate peer...)."""


@dataclass(frozen=True)
class Region:
    """metapb.Region: id, [start_key, end_key), epoch and peers."""

    id: int
    start_key: bytes = b""
    end_key: bytes = b""
    epoch: Epoch = Epoch()
    peers: tuple[Peer, ...] = ()

    def contains(self, key: bytes) -> bool:
        return self.start_key <= key and (not self.end_key or key < self.end_key)

    def store_ids(self) -> set[int]:
        return {p.store_id for p in self.peers}

    def peer_on(self, store_id: int) -> Peer | None:
        return next((p for p in self.peers if p.store_id == store_id), None)

    def overlaps(self, other: Region) -> bool:
        return ((not self.end_key or other.start_key < self.end_key)
                and (not other.end_key or self.start_key < other.end_key))

    def split(self, split_key: bytes, new_region_id: int,
              new_peer_ids: Sequence[int]) -> tuple[Region, Region]:
        """(left, right) after a split at `split_key`, as TinyKV's raftstore applies it: this
        region keeps its id and [start_key, split_key); the new region takes [split_key,
        end_key) with one new peer on each store of this region (new_peer_ids in the order of
        self.peers). Both get version + 1, so any request or heartbeat still carrying the old
        range is refused as stale; conf_ver is unchanged (membership did not change)."""
        if not self.contains(split_key) or split_key == self.start_key:
            raise RegionError(f"split key {split_key!r} is not strictly inside region {self.id} "
                              f"[{self.start_key!r}, {self.end_key!r})")
        if len(new_peer_ids) != len(self.peers):
            raise RegionError(f"region {self.id} has {len(self.peers)} peers but "
                              f"{len(new_peer_ids)} new peer ids were given")
        taken = {p.id for p in self.peers}
        if new_region_id == self.id or len(set(new_peer_ids)) != len(new_peer_ids) or taken & set(new_peer_ids):
            raise RegionError("the new region and its peers need fresh ids")
        epoch = Epoch(self.epoch.version + 1, self.epoch.conf_ver)
        left = replace(self, end_key=split_key, epoch=epoch)
        right = Region(new_region_id, split_key, self.end_key, epoch,
                       tuple(Peer(pid, p.store_id) for pid, p in zip(new_peer_ids, self.peers, strict=True)))
        return left, right

    def add_peer(self, peer: Peer) -> Region:
        """A ConfChange AddNode applied: conf_ver + 1. One peer per store, ids unique."""
        if any(p.id == peer.id for p in self.peers):
            raise RegionError(f"region {self.id} already has peer {peer.id}")
        if peer.store_id in self.store_ids():
            raise RegionError(f"region {self.id} already has a peer on store {peer.store_id}")
        return replace(self, peers=(*self.peers, peer),
                       epoch=Epoch(self.epoch.version, self.epoch.conf_ver + 1))

    def remove_peer(self, peer_id: int) -> Region:
        """A ConfChange RemoveNode applied: conf_ver + 1."""
        if not any(p.id == peer_id for p in self.peers):
            raise RegionError(f"region {self.id} has no peer {peer_id}")
        return replace(self, peers=tuple(p for p in self.peers if p.id != peer_id),
                       epoch=Epoch(self.epoch.version, self.epoch.conf_ver + 1))


def split_check(region: Region, sizes: Iterable[tuple[bytes, int]], max_size: int) -> bytes | None:
    """The split checker: None while the region's keys total at most max_size bytes; else
    the middle key by size, the key k (not the first, so neither half is empty) for which
    the bytes before k are closest to half the total (ties: the smaller key). None too when
    the region holds a single key: one key cannot be cut."""
    entries = sorted((k, s) for k, s in sizes if region.contains(k))
    total = sum(s for _, s in entries)
    if total <= max_size or len(entries) < 2:
        return None
    best: tuple[int, bytes] | None = None
    before = entries[0][1]
    for key, size in entries[1:]:
        score = abs(2 * before - total)
        if best is None or score < best[0]:
            best = (score, key)
        before += size
    assert best is not None
    return best[1]


class RegionMap:
    """Regions by key range, none overlapping: what a client or router consults to find the
    region of a key. Gaps are allowed (a range whose region has not been reported yet)."""

    def __init__(self, regions: Iterable[Region] = ()) -> None:
        self._starts: list[bytes] = []
        self._regions: list[Region] = []
        for r in regions:
            self.put(r)

    def regions(self) -> list[Region]:
        """In key order."""
        return list(self._regions)

    def overlapping(self, region: Region) -> list[Region]:
        return [r for r in self._regions if r.overlaps(region)]

    def put(self, region: Region) -> list[Region]:
        """Insert `region`, dropping (and returning) every region whose range it overlaps."""
        dropped = self.overlapping(region)
        for r in dropped:
            self.remove(r.id)
        i = bisect.bisect_left(self._starts, region.start_key)
        self._starts.insert(i, region.start_key)
        self._regions.insert(i, region)
        return dropped

    def remove(self, region_id: int) -> Region | None:
        for i, r in enumerate(self._regions):
            if r.id == region_id:
                del self._starts[i], self._regions[i]
                return r
        return None

    def locate(self, key: bytes) -> Region | None:
        """The region holding `key`, or None if it falls in a gap."""
        i = bisect.bisect_right(self._starts, key) - 1
        if i >= 0 and self._regions[i].contains(key):
            return self._regions[i]
        return None
