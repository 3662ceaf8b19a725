"""Mutant: moves when the gap exceeds the region's size once, not twice: the target
may end up the larger store, and the region bounces back and forth."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Store:
    """A TiKV server: whether it is up, and the total size of the regions it holds a peer of."""

    id: int
    up: bool
    region_size: int


@dataclass(frozen=True)
class RegionInfo:
    """A region: its approximate size and the stores holding its peers (replicas)."""

    id: int
    size: int
    peers: tuple[int, ...]


def balance(stores: list[Store], regions: list[RegionInfo], max_replicas: int = 3) -> tuple[int, int, int] | None:
    """(region id, from store, to store), or None. Sources are the up stores, largest
    region_size first (ties: smaller id); on a source, regions by id, skipping those with
    fewer than max_replicas peers (still being repaired); the target is the up store with
    the smallest region_size holding no peer of the region (ties: smaller id). The move is
    made only if the gap is more than twice the region's size: otherwise the target
    would end up the larger, and the next round would move the region straight back."""
    up = sorted((s for s in stores if s.up), key=lambda s: (-s.region_size, s.id))
    for source in up:
        for region in sorted(regions, key=lambda r: r.id):
            if source.id not in region.peers or len(region.peers) < max_replicas:
                continue
            targets = [s for s in up if s.id not in region.peers]
            if not targets:
                continue
            target = min(targets, key=lambda s: (s.region_size, s.id))
            if source.region_size - target.region_size > region.size:
                return (region.id, source.id, target.id)
    return None
