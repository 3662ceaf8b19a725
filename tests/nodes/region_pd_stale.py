"""A placement driver's RegionTable (the Sharder track's heartbeats contract) that compares
versions only: a report from before a membership change (same version, older conf_ver)
is taken, and the driver schedules on a peer list that is no longer true."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    id: int
    start: bytes
    end: bytes
    version: int = 1
    conf_ver: int = 1


def _overlap(a: Region, b: Region) -> bool:
    return (not a.end or b.start < a.end) and (not b.end or a.start < b.end)


class RegionTable:
    def __init__(self) -> None:
        self.known: dict[int, Region] = {}

    def heartbeat(self, region: Region) -> bool:
        rivals = [r for r in self.known.values() if r.id == region.id or _overlap(r, region)]
        if any(region.version < r.version for r in rivals):  # the bug: conf_ver never compared
            return False
        for r in rivals:
            del self.known[r.id]
        self.known[region.id] = region
        return True

    def regions(self) -> list[Region]:
        return sorted(self.known.values(), key=lambda r: r.start)
