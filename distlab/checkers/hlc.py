"""Hybrid logical clocks: causality as Lamport's, and `l` within reach of real clocks.

A hybrid logical clock (Kulkarni et al. 2014) stamps events `[l, c]`: `l` is the
largest physical time the node has heard of (its own clock's milliseconds or an
`l` carried to it), `c` counts events within one `l`. Judged on the `hlc`
workload's history:

- *causality*: Lamport's clock condition on the pairs (distlab/checkers/lamport.py);
- *not behind*: `l` is at least what the serving node's own clock read while it
  handled the request (a node that stamps from a counter alone falls behind);
- *not ahead*: `l` is at most the most any node's clock had read by the reply: it
  comes from some physical clock, never from counting on its own;
- *c restarts*: a stamp whose `l` is above the request's `seen` `l` and above every
  `l` its node could have given out before it has `c` = 0: `l` then came from the
  node's own clock, a new millisecond, and `c` counts events within one `l` (a `c`
  that keeps counting across milliseconds grows without bound). Only judged while the
  node has no stamp of unknown outcome (a lost reply may hide an earlier stamp at
  that `l`), and never at `l` = 0 (every node starts at [0, 0]).

What each node's clock read is known from the history: the clock nemesis records
every bump, strobe and drift it applies and when it resets, and the simulator's
clock is virtual time plus that skew. Bounds are taken over each operation's whole
span and widened by SLACK_MS for rounding to milliseconds.
"""

from __future__ import annotations

import math
from typing import Any

from distlab.checkers import lamport
from distlab.checkers.lamport import Stamp, show
from distlab.checkers.pairing import calls
from distlab.history import NEMESIS, OK

ANOMALIES = (*lamport.ANOMALIES, "behind_clock", "ahead_of_clocks", "c_not_reset")
SLACK_MS = 2
EXAMPLES = 10


def well_formed(ts: Any) -> bool:
    return isinstance(ts, list) and len(ts) == 2 and all(type(x) is int for x in ts)


Skew = dict[str, float]  # the nemesis' fields: offset, drift, strobe_delta, strobe_period


def _range(skew: Skew, a: float, b: float) -> tuple[float, float]:
    """The lowest and highest a clock with this skew reads in [a, b] seconds (virtual
    time + offset + drift * time, plus the strobe's delta in every other period)."""
    offset, drift, strobe = skew.get("offset", 0.0), skew.get("drift", 0.0), skew.get("strobe_delta", 0.0)
    ends = (a + offset + drift * a, b + offset + drift * b)
    lo, hi = min(ends), max(ends)
    if strobe and skew.get("strobe_period"):
        lo, hi = lo + min(0.0, strobe), hi + max(0.0, strobe)
    return lo, hi


class Clocks:
    """Each node's clock skew over time, from the nemesis records in the history."""

    def __init__(self, history: list[dict[str, Any]]) -> None:
        self.changes: dict[str, list[tuple[float, Skew]]] = {}  # node -> [(from s, skew)]
        for rec in history:
            if rec["process"] != NEMESIS or rec.get("type") != "info":
                continue
            at = rec["time"] / 1e9
            if rec["f"] == "start-clock" and isinstance(rec.get("value"), dict):
                for node, skew in rec["value"].items():
                    if isinstance(skew, dict):
                        fields = {k: float(v) for k, v in skew.items() if k != "mode" and isinstance(v, (int, float))}
                        self.changes.setdefault(node, []).append((at, fields))
            elif rec["f"] == "stop-clock" and isinstance(rec.get("value"), list):
                for node in rec["value"]:
                    self.changes.setdefault(str(node), []).append((at, {}))

    def reads(self, node: Any, a: float, b: float) -> tuple[float, float]:
        """The lowest and highest this node's clock read in [a, b] seconds."""
        segments: list[tuple[float, float, Skew]] = []
        start, skew = 0.0, {}
        for at, new in self.changes.get(node, []):
            segments.append((start, at, skew))
            start, skew = at, new
        segments.append((start, math.inf, skew))
        lo, hi = math.inf, -math.inf
        for s0, s1, sk in segments:
            x, y = max(a, s0), min(b, s1)
            if x <= y:
                r = _range(sk, x, y)
                lo, hi = min(lo, r[0]), max(hi, r[1])
        return lo, hi

    def highest(self, nodes: list[Any], b: float) -> float:
        """The most any of these nodes' clocks read in [0, b] (at least 0: every clock
        reads 0 at the start, before any fault)."""
        return max([0.0] + [self.reads(n, 0.0, b)[1] for n in nodes])


def _c_not_reset(history: list[dict[str, Any]], good: list[Stamp]) -> list[tuple[Stamp, int]]:
    """Stamps that opened a new l from their node's clock but did not start c at 0 (see
    the module docstring), each with the highest l its node could have given out before."""
    unknown: dict[Any, int] = {}  # node -> history index of its first stamp of unknown outcome
    for _, inv, _, done in calls(history):
        if inv.get("f") == "stamp" and (done is None or done["type"] != OK):
            node = inv["value"].get("node") if isinstance(inv.get("value"), dict) else None
            unknown[node] = min(unknown.get(node, inv["index"]), inv["index"])
    by_node: dict[Any, list[Stamp]] = {}
    for s in good:
        by_node.setdefault(s.node, []).append(s)
    out: list[tuple[Stamp, int]] = []
    for node, mine in by_node.items():
        for s in mine:
            l, c = s.ts  # noqa: E741 (the paper's names)
            first_unknown = min(unknown.get(node, s.done["index"]), unknown.get(None, s.done["index"]))
            if c == 0 or l <= 0 or first_unknown < s.done["index"]:
                continue
            if well_formed(s.seen) and l <= s.seen[0]:
                continue
            before = [t.ts[0] for t in mine if t is not s and t.inv["index"] < s.done["index"]]
            if l not in before:
                out.append((s, max([b for b in before if b < l], default=0)))
    return out


def check(history: list[dict[str, Any]]) -> dict[str, Any]:
    parts, sentences, good = lamport.analyse(history, well_formed, "a pair [l, c] of integers")
    clocks = Clocks(history)
    nodes = sorted({s.node for s in good if s.node is not None} | set(clocks.changes), key=str)
    behind: list[dict[str, Any]] = []
    ahead: list[dict[str, Any]] = []
    for s in good:
        a, b = s.inv["time"] / 1e9, s.done["time"] / 1e9
        low_ms = math.floor(clocks.reads(s.node, a, b)[0] * 1000)
        l = s.ts[0]  # noqa: E741 (the paper's name)
        if l < low_ms - SLACK_MS:
            behind.append({"node": s.node, "index": s.done["index"], "ts": s.ts, "clock_ms": low_ms})
            if len(behind) == 1:
                sentences.append(f"{s.where()} returned ts={show(s.ts)}, but {s.node}'s own clock read at least "
                                 f"{low_ms} ms while it handled the request: a hybrid clock's l never falls behind "
                                 "its node's physical clock (take the max with the clock's milliseconds)")
        high_ms = math.ceil(clocks.highest(nodes, b) * 1000)
        if l > high_ms + SLACK_MS:
            ahead.append({"node": s.node, "index": s.done["index"], "ts": s.ts, "highest_clock_ms": high_ms})
            if len(ahead) == 1:
                sentences.append(f"{s.where()} returned ts={show(s.ts)}, but no node's clock had read more than "
                                 f"{high_ms} ms by then: l must be a physical time some clock showed, never counted "
                                 "up on its own (count events within one millisecond in c)")
    not_reset = _c_not_reset(history, good)
    if not_reset:
        s, before = not_reset[0]
        seen = f", nor the request's seen (l={s.seen[0]})" if well_formed(s.seen) else ""
        sentences.append(f"{s.where()} returned ts={show(s.ts)}, but no earlier stamp of {s.node} had l={s.ts[0]} "
                         f"(the last below it: {before}){seen}: l came from its own clock, a new millisecond, so c "
                         "starts again at 0 (c counts events within one l)")
    parts.update({"c_not_reset_count": len(not_reset),
                  "c_not_reset": [{"node": s.node, "index": s.done["index"], "ts": s.ts, "prior_l": before}
                                  for s, before in not_reset[:EXAMPLES]]})
    parts.update({"behind_clock_count": len(behind), "behind_clock": behind[:EXAMPLES],
                  "ahead_of_clocks_count": len(ahead), "ahead_of_clocks": ahead[:EXAMPLES],
                  "clock_faults": sum(len(v) for v in clocks.changes.values())})
    return lamport.verdict(parts, sentences)
