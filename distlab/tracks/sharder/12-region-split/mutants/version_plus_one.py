"""Mutant: a batch split bumps the version by one, however many regions it makes (TinyKV's
single split, generalised wrongly)."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Region:
    """A contiguous key range [start, end) served by one Raft group; end b"" means "to the
    end of the key space". The epoch (version, conf_ver) says which layout it is: version
    grows with every split or merge, conf_ver with every membership change."""

    id: int
    start: bytes
    end: bytes
    version: int = 1
    conf_ver: int = 1


def split_keys(entries: list[tuple[bytes, int]], max_size: int, split_size: int) -> list[bytes]:
    """Where to cut a region whose keys (in order) have these sizes. Nothing while the
    region holds at most max_size bytes; else a new piece starts at the first key reached
    once the piece so far holds split_size bytes or more (max_size > split_size, so a region
    just past the limit leaves pieces that stay under it for a while)."""
    if sum(size for _, size in entries) <= max_size:
        return []
    keys: list[bytes] = []
    acc = 0
    for key, size in entries:
        if acc >= split_size:
            keys.append(key)
            acc = 0
        acc += size
    return keys


def split(region: Region, keys: list[bytes], new_ids: list[int]) -> list[Region]:
    """The regions after a batch split at `keys` (sorted, inside the region): the original
    keeps its id and the leftmost piece, new_ids[i] takes the piece starting at keys[i];
    every piece gets version + len(keys) (so any request or heartbeat carrying the old
    version is recognisably stale) and the same conf_ver."""
    if len(new_ids) != len(keys):
        raise ValueError(f"{len(keys)} split keys need {len(keys)} new region ids, got {len(new_ids)}")
    prev = region.start
    for key in keys:
        if not key > prev or (region.end and key >= region.end):
            raise ValueError(f"split key {key!r} is not inside region {region.id} "
                             f"[{region.start!r}, {region.end!r}) after {prev!r}")
        prev = key
    bounds = [region.start, *keys, region.end]
    version = region.version + 1
    ids = [region.id, *new_ids]
    return [replace(region, id=ids[i], start=bounds[i], end=bounds[i + 1], version=version)
            for i in range(len(ids))]
