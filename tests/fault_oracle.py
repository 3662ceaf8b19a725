"""What the nemesis did, sampled on a time grid: the oracles' view of faults.

distlab/checkers/faults.py turns nemesis records into merged intervals; the oracles in
tests/test_oracle_failure_detector.py and tests/test_oracle_leader.py instead replay
the records and ask, at each grid point, who was down and which links were cut. With
every event on a multiple of STEP * 2, sampling every STEP seconds sees each gap
between two faults, so "for all grid points" means "for all times".

Fault intervals are closed: a node is down at the instant it is killed and at the
instant it comes back, as the checkers' intervals are.
"""

from __future__ import annotations

import math
import random
from typing import Any

STEP = 0.25


class Grid:
    def __init__(self, history: list[dict[str, Any]], horizon: float) -> None:
        self.horizon = horizon
        events: dict[float, list[dict[str, Any]]] = {}
        for rec in history:
            if rec.get("process") == "nemesis" and rec.get("type") == "info":
                events.setdefault(rec["time"] / 1e9, []).append(rec)
        self.times = [i * STEP for i in range(int(horizon / STEP) + 1)]
        # the state just after all events at each event time, and just before
        self._after: dict[float, dict[str, Any]] = {}
        state = {"killed": set(), "paused": set(), "cut": set(), "loss": False, "open": set()}
        self._before_first = self._copy(state)
        self._event_times = sorted(events)
        for t in self._event_times:
            for rec in events[t]:
                self._apply(state, rec)
            self._after[t] = self._copy(state)

    @staticmethod
    def _copy(state: dict[str, Any]) -> dict[str, Any]:
        return {k: set(v) if isinstance(v, set) else v for k, v in state.items()}

    @staticmethod
    def _apply(state: dict[str, Any], rec: dict[str, Any]) -> None:
        f, value = rec["f"], rec.get("value")
        kind = f.split("-", 1)[-1]
        if f.startswith("start-"):
            state["open"].add(kind)
        elif f.startswith("stop-"):
            state["open"].discard(kind)
        for node in value if f.endswith(("-kill", "-pause")) else ():
            if f == "start-kill":
                state["killed"].add(node)
                state["paused"].discard(node)  # a fresh process is not paused
            elif f == "stop-kill":
                state["killed"].discard(node)
            elif f == "start-pause" and node not in state["killed"]:
                state["paused"].add(node)  # pausing a dead node does nothing
            elif f == "stop-pause":
                state["paused"].discard(node)
        if f == "start-partition":
            state["cut"] = {(r, s) for r, senders in value["grudge"].items() for s in senders}
        elif f == "stop-partition":
            state["cut"] = set()
        elif f == "start-loss":
            state["loss"] = True
        elif f == "stop-loss":
            state["loss"] = False

    def _states(self, t: float) -> list[dict[str, Any]]:
        """The state just before t and just after t (both count: intervals are closed)."""
        before = self._before_first
        for et in self._event_times:
            if et < t:
                before = self._after[et]
        return [before, self._after.get(t, before)]

    def down(self, node: str, t: float) -> bool:
        return any(node in s["killed"] or node in s["paused"] for s in self._states(t))

    def cut(self, receiver: str, sender: str, t: float) -> bool:
        return any((receiver, sender) in s["cut"] for s in self._states(t))

    def lossy(self, t: float) -> bool:
        return any(s["loss"] for s in self._states(t))

    def any_fault(self, t: float) -> bool:
        return any(s["open"] for s in self._states(t))

    def points(self, a: float, b: float) -> list[float]:
        """Grid points in [a, b] (b may be inf: to the horizon)."""
        return [t for t in self.times if a - 1e-9 <= t <= b + 1e-9]

    def stretch(self, pred: Any, t: float) -> tuple[float, float] | None:
        """The maximal stretch [a, b] of grid time around t where pred holds (b = inf when
        it holds to the horizon), or None if it does not hold at t."""
        if not pred(t):
            return None
        i = round(t / STEP)
        a = i
        while a > 0 and pred(self.times[a - 1]):
            a -= 1
        b = i
        while b + 1 < len(self.times) and pred(self.times[b + 1]):
            b += 1
        return self.times[a], math.inf if b + 1 == len(self.times) else self.times[b]

    def up_since(self, node: str, t: float) -> float:
        """The end of the last downtime of node that ended at or before t (0.0 if none)."""
        ends = [x for x in self.points(0, t) if self.down(node, x) and not self.down(node, x + STEP)]
        return max(ends, default=0.0)


NODES = ("n0", "n1", "n2")


def nemesis_events(rng: random.Random, horizon: float, nodes: tuple[str, ...] = NODES) -> list[tuple[float, str, Any]]:
    """A random fault schedule on half seconds: kills, pauses, partitions, loss bursts,
    each kind one at a time, some never healed."""
    out: list[tuple[float, str, Any]] = []
    for kind in ("kill", "pause", "partition", "loss"):
        t = rng.randrange(0, 8) / 2
        while rng.random() < 0.6 and t < horizon - 2:
            start = t
            stop = start + rng.randrange(1, 10) / 2
            if kind in ("kill", "pause"):
                value: Any = rng.sample(nodes, rng.randrange(1, 3))
            elif kind == "partition":
                a = rng.choice(nodes)
                others = [n for n in nodes if n != a]
                grudge = {a: others} if rng.random() < 0.5 else {o: [a] for o in others}
                if rng.random() < 0.5:
                    grudge = {a: others, **{o: [a] for o in others}}
                value = {"grudge": grudge}
            else:
                value = {"loss": 0.3}
            out.append((start, f"start-{kind}", value))
            if rng.random() < 0.85 or stop >= horizon:
                out.append((min(stop, horizon - 1), f"stop-{kind}", value if kind in ("kill", "pause") else None))
            else:
                break
            t = stop + rng.randrange(1, 6) / 2
    return out
