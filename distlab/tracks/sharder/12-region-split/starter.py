"""Region split by size, as TiKV's split checker and batch split do (TinyKV project 3B)."""

from __future__ import annotations

from dataclasses import dataclass


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
    """TODO: where to cut a region whose keys (in order) have these sizes (see the statement)."""
    return []


def split(region: Region, keys: list[bytes], new_ids: list[int]) -> list[Region]:
    """TODO: the regions after a batch split at `keys`."""
    return [region]
