"""A region split (the Sharder track's region-split contract) that forgets the epoch: the
pieces keep the old version, so a request or heartbeat from before the split still looks
current. region-lab must fail it."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Region:
    id: int
    start: bytes
    end: bytes
    version: int = 1
    conf_ver: int = 1


def split_keys(entries: list[tuple[bytes, int]], max_size: int, split_size: int) -> list[bytes]:
    if sum(s for _, s in entries) <= max_size:
        return []
    out, held = [], 0
    for key, size in entries:
        if held >= split_size:
            out.append(key)
            held = 0
        held += size
    return out


def split(region: Region, keys: list[bytes], new_ids: list[int]) -> list[Region]:
    edges = [region.start, *keys, region.end]
    ids = [region.id, *new_ids]
    # the bug: no version bump
    return [replace(region, id=ids[i], start=edges[i], end=edges[i + 1]) for i in range(len(ids))]
