"""Placement balance: which region's replica to move, from which store to which, as
TinyKV's balance-region scheduler (project 3C) decides, made deterministic."""

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
    """TODO: (region id, from store, to store) to move one replica, or None (see the statement)."""
    return None
