"""When each fault was on, read back from the nemesis records of a history.

Checkers that judge timing (a failure detector must notice a crash within T, a
lease holder must not outlive a pause) need to know which node was down, which
links were cut and when the network was lossy. The nemesis records every start
and stop in the history itself (`start-kill ["n1"]`, `stop-partition ...`), so
the history alone says it, and a saved history can be judged again later.

Times here are seconds since the start of the run (the history's `time` is ns).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from distlab.history import INFO, NEMESIS

Interval = tuple[float, float]
INF = math.inf


def _merge(intervals: list[Interval]) -> list[Interval]:
    """Overlapping or touching intervals joined, in order."""
    out: list[list[float]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _covering(intervals: list[Interval], t: float) -> Interval | None:
    """The interval holding time t, if any (intervals merged)."""
    for a, b in intervals:
        if a <= t <= b:
            return (a, b)
    return None


def _overlaps(intervals: list[Interval], a: float, b: float) -> bool:
    return any(x <= b and a <= y for x, y in intervals)


@dataclass
class Timeline:
    """Who was down, which links were cut, and when anything at all was wrong."""

    down: dict[str, list[Interval]] = field(default_factory=dict)
    """node -> merged intervals when it was killed or paused"""
    cut: dict[tuple[str, str], list[Interval]] = field(default_factory=dict)
    """(receiver, sender) -> merged intervals when the receiver dropped the sender's messages"""
    lossy: list[Interval] = field(default_factory=list)
    """intervals with a loss burst on"""
    clock: dict[str, list[Interval]] = field(default_factory=dict)
    """node -> intervals with its clock skewed"""
    any_fault: list[Interval] = field(default_factory=list)
    """merged intervals with some fault on"""

    @classmethod
    def from_history(cls, history: list[dict[str, Any]]) -> Timeline:
        down: dict[str, list[Interval]] = {}
        cut: dict[tuple[str, str], list[Interval]] = {}
        clock: dict[str, list[Interval]] = {}
        lossy: list[Interval] = []
        every: list[Interval] = []
        killed: set[str] = set()
        paused: set[str] = set()
        down_since: dict[str, float] = {}
        open_cut: tuple[float, dict[str, list[str]]] | None = None
        open_clock: tuple[float, list[str]] | None = None
        open_loss: float | None = None
        open_any: dict[str, float] = {}
        for rec in history:
            if rec.get("process") != NEMESIS or rec.get("type") != INFO:
                continue
            f, value, t = str(rec.get("f", "")), rec.get("value"), rec.get("time", 0) / 1e9
            kind = f.split("-", 1)[-1]
            if f.startswith("start-"):
                open_any.setdefault(kind, t)
            elif f.startswith("stop-") and kind in open_any:
                every.append((open_any.pop(kind), t))
            if f in ("start-kill", "stop-kill", "start-pause", "stop-pause"):
                # As the runtimes do it: pausing a dead node does nothing, and a node killed
                # while paused comes back running (a fresh process is not paused).
                for node in map(str, value or []):
                    if f == "start-kill":
                        killed.add(node)
                        paused.discard(node)
                    elif f == "stop-kill":
                        killed.discard(node)
                    elif f == "start-pause" and node not in killed:
                        paused.add(node)
                    elif f == "stop-pause":
                        paused.discard(node)
                    is_down = node in killed or node in paused
                    if is_down and node not in down_since:
                        down_since[node] = t
                    elif not is_down and node in down_since:
                        down.setdefault(node, []).append((down_since.pop(node), t))
            elif f == "start-partition":
                grudge = (value or {}).get("grudge", {}) if isinstance(value, dict) else {}
                open_cut = (t, {str(k): [str(s) for s in v] for k, v in grudge.items()})
            elif f == "stop-partition" and open_cut is not None:
                since, grudge = open_cut
                for receiver, senders in grudge.items():
                    for sender in senders:
                        cut.setdefault((receiver, sender), []).append((since, t))
                open_cut = None
            elif f == "start-loss":
                open_loss = t
            elif f == "stop-loss" and open_loss is not None:
                lossy.append((open_loss, t))
                open_loss = None
            elif f == "start-clock":
                open_clock = (t, [str(n) for n in (value or {})])
            elif f == "stop-clock" and open_clock is not None:
                for node in open_clock[1]:
                    clock.setdefault(node, []).append((open_clock[0], t))
                open_clock = None
        # a fault never healed lasts to the end of time
        for node, since in down_since.items():
            down.setdefault(node, []).append((since, INF))
        if open_cut is not None:
            for receiver, senders in open_cut[1].items():
                for sender in senders:
                    cut.setdefault((receiver, sender), []).append((open_cut[0], INF))
        if open_loss is not None:
            lossy.append((open_loss, INF))
        if open_clock is not None:
            for node in open_clock[1]:
                clock.setdefault(node, []).append((open_clock[0], INF))
        every += [(since, INF) for since in open_any.values()]
        return cls(
            down={n: _merge(v) for n, v in down.items()},
            cut={k: _merge(v) for k, v in cut.items()},
            lossy=_merge(lossy),
            clock={n: _merge(v) for n, v in clock.items()},
            any_fault=_merge(every),
        )

    def down_at(self, node: str, t: float) -> Interval | None:
        """The stretch during which `node` was down that holds time t, if it was down then."""
        return _covering(self.down.get(node, []), t)

    def down_during(self, node: str, a: float, b: float) -> bool:
        return _overlaps(self.down.get(node, []), a, b)

    def up_since(self, node: str, t: float) -> float:
        """When `node` last came back up at or before t (0.0 if it never went down before t)."""
        since = 0.0
        for _a, b in self.down.get(node, []):
            if b <= t:
                since = b
        return since

    def unheard(self, receiver: str, sender: str) -> list[Interval]:
        """When `receiver` could hear nothing from `sender`: the sender down, or the link cut."""
        return _merge(self.down.get(sender, []) + self.cut.get((receiver, sender), []))

    def link_faulted(self, a: str, b: str, start: float, end: float) -> bool:
        """Whether anything stood between a and b during [start, end]: either down, or the link
        cut either way. A loss burst does not count: a lossy link still carries messages, and
        telling it from a dead node is the detector's job."""
        return (self.down_during(a, start, end) or self.down_during(b, start, end)
                or _overlaps(self.cut.get((a, b), []), start, end) or _overlaps(self.cut.get((b, a), []), start, end))

    def connected(self, node: str, others: list[str], start: float, end: float) -> list[str]:
        """`node` and the others it could talk to both ways during all of [start, end] (every
        one up, no link between them cut), or [] if `node` itself was down or a loss burst
        was on: the nodes a healthy leader could count on."""
        if self.down_during(node, start, end) or _overlaps(self.lossy, start, end):
            return []
        return [node] + [o for o in others if o != node and not self.link_faulted(node, o, start, end)]

    def quiet(self, start: float, end: float) -> bool:
        """No fault of any kind during [start, end]."""
        return not _overlaps(self.any_fault, start, end)

    def quiet_since(self, t: float) -> float:
        """When the fault-free stretch holding t began (t itself if a fault is on at t)."""
        since = 0.0
        for a, b in self.any_fault:
            if a <= t <= b:
                return t
            if b <= t:
                since = b
        return since


def seconds(rec: dict[str, Any]) -> float:
    """A record's time in seconds."""
    return rec.get("time", 0) / 1e9


def node_order(node: str) -> tuple[int, Any]:
    """Node ids ordered as the course compares them: n2 < n10 (by number), else by text."""
    digits = node.lstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-.")
    return (0, int(digits)) if digits.isdigit() else (1, node)
