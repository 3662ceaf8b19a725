"""A balance-region rule (the Sharder track's balance contract) that takes the emptiest
up store as the target even when it already holds a replica of the region."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Store:
    id: int
    up: bool
    region_size: int


@dataclass(frozen=True)
class RegionInfo:
    id: int
    size: int
    peers: tuple[int, ...]


def balance(stores: list[Store], regions: list[RegionInfo], max_replicas: int = 3) -> tuple[int, int, int] | None:
    up = sorted((s for s in stores if s.up), key=lambda s: (-s.region_size, s.id))
    if not up:
        return None
    target = min(up, key=lambda s: (s.region_size, s.id))  # the bug: ignores the region's peers
    for source in up:
        for r in sorted(regions, key=lambda r: r.id):
            if source.id in r.peers and len(r.peers) >= max_replicas and source.id != target.id \
                    and source.region_size - target.region_size > 2 * r.size:
                return r.id, source.id, target.id
    return None
