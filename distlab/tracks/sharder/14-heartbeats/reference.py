"""The placement driver's region table, fed by region heartbeats, as TinyKV's
processRegionHeartbeat (project 3C): a heartbeat older than what is known is refused."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    """[start, end) (end b"": no end) with its epoch: version grows with splits and merges,
    conf_ver with membership changes."""

    id: int
    start: bytes
    end: bytes
    version: int = 1
    conf_ver: int = 1


def overlaps(a: Region, b: Region) -> bool:
    return (not a.end or b.start < a.end) and (not b.end or a.start < b.end)


def stale(reported: Region, known: Region) -> bool:
    """Older in either part of the epoch: it describes a layout that has been replaced."""
    return reported.version < known.version or reported.conf_ver < known.conf_ver


class RegionTable:
    """What the placement driver believes: the regions by id, none overlapping."""

    def __init__(self) -> None:
        self.by_id: dict[int, Region] = {}

    def heartbeat(self, region: Region) -> bool:
        """Take a region's report; False (and nothing changes) if it is stale: older than the
        region of the same id, or than any known region its range overlaps. Else it
        replaces the region of its id and every region it overlaps (they are older
        layouts of the same keys: a split's parent, a merge's sources)."""
        known = self.by_id.get(region.id)
        if known is not None and stale(region, known):
            return False
        others = [r for r in self.by_id.values() if r.id != region.id and overlaps(r, region)]
        if any(stale(region, r) for r in others):
            return False
        for r in others:
            del self.by_id[r.id]
        self.by_id[region.id] = region
        return True

    def regions(self) -> list[Region]:
        """The table in key order."""
        return sorted(self.by_id.values(), key=lambda r: r.start)
