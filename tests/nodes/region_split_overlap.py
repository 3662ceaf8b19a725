"""A region split (the Sharder track's region-split contract) whose new regions start one
key early: each new piece also covers the last key of the piece before it, so two regions
serve that key. region-lab must fail it."""

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
    version = region.version + len(keys)
    # the bug: a new piece starts where the previous one started, not at its split key
    starts = [region.start, *edges[:-2]]
    return [replace(region, id=ids[i], start=starts[i], end=edges[i + 1], version=version)
            for i in range(len(ids))]
