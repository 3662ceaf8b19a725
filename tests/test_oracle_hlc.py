"""Hybrid logical clock checker against an oracle, on seeded runs of a model HLC with
clock faults (bumps and drifts), valid and broken.

The checker bounds each node's clock by the ends of the skew segments an operation
spans; the oracle samples each node's clock, as the simulator computes it (virtual
time + offset + drift * time, reset by stop-clock), every 10 ms and at every record's
time, and checks the clock condition on every pair of stamps with an explicit
lexicographic order on [l, c].
"""

from __future__ import annotations

import math
import random
from typing import Any

from distlab.checkers import hlc

NODES = ("n0", "n1", "n2")
GRID = 0.01
SLACK = 2


def _lt(a: list[int], b: list[int]) -> bool:
    return a[0] < b[0] or (a[0] == b[0] and a[1] < b[1])


def _well_formed(ts: Any) -> bool:
    return isinstance(ts, list) and len(ts) == 2 and all(type(x) is int for x in ts)


class Skews:
    """Each node's skew at any time, replayed from the clock nemesis records."""

    def __init__(self, history: list[dict[str, Any]]) -> None:
        self.changes: list[tuple[float, str, dict[str, float]]] = []
        self.times: list[float] = []
        for r in history:
            if r["process"] != "nemesis":
                continue
            t = r["time"] / 1e9
            self.times.append(t)
            if r["f"] == "start-clock":
                self.changes += [(t, n, v) for n, v in r["value"].items()]
            elif r["f"] == "stop-clock":
                self.changes += [(t, n, {}) for n in r["value"]]

    def readings(self, node: str, t: float) -> list[float]:
        """What the node's clock read at t: both sides of a change at exactly t."""
        before: dict[str, float] = {}
        after: dict[str, float] = {}
        for at, n, v in self.changes:
            if n != node:
                continue
            if at < t:
                before = after = v
            elif at == t:
                after = v
        return [t + s.get("offset", 0.0) + s.get("drift", 0.0) * t for s in (before, after)]

    def samples(self, a: float, b: float, records: list[float]) -> list[float]:
        pts = {a, b} | {t for t in self.times + records if a <= t <= b}
        pts |= {k * GRID for k in range(math.ceil(a / GRID), math.floor(b / GRID) + 1)}
        return sorted(pts)


def oracle(history: list[dict[str, Any]]) -> Any:
    open_: dict[Any, dict[str, Any]] = {}
    stamps: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for r in history:
        if r["process"] == "nemesis":
            continue
        if r["type"] == "invoke":
            open_[r["process"]] = r
        elif r["process"] in open_:
            inv = open_.pop(r["process"])
            if r["type"] == "ok" and inv["f"] == "stamp":
                stamps.append((inv, r))
    if not stamps:
        return "unknown"
    if any(not _well_formed(done["value"]["ts"]) for _, done in stamps):
        return False
    sk = Skews(history)
    record_times = [r["time"] / 1e9 for r in history]
    nodes = {done["value"]["node"] for _, done in stamps} | {n for _, n, _ in sk.changes}
    for inv, done in stamps:
        v = done["value"]
        if _well_formed(v["seen"]) and not _lt(v["seen"], v["ts"]):
            return False
        for _inv2, done2 in stamps:
            if done2["value"]["node"] == v["node"] and done2["index"] < inv["index"] \
                    and not _lt(done2["value"]["ts"], v["ts"]):
                return False
        a, b = inv["time"] / 1e9, done["time"] / 1e9
        low = min(x for t in sk.samples(a, b, record_times) for x in sk.readings(v["node"], t))
        if v["ts"][0] < math.floor(low * 1000) - SLACK:
            return False
        high = max([0.0] + [x for n in nodes for t in sk.samples(0.0, b, record_times) for x in sk.readings(n, t)])
        if v["ts"][0] > math.ceil(high * 1000) + SLACK:
            return False
        # a new l, above seen's and above every l the node could have given before: c = 0
        l, c = v["ts"]  # noqa: E741
        opens = l > 0 and not (_well_formed(v["seen"]) and l <= v["seen"][0])
        if c != 0 and opens and not any(
                d2["value"]["node"] == v["node"] and d2 is not done and i2["index"] < done["index"]
                and d2["value"]["ts"][0] == l for i2, d2 in stamps):
            return False
    return True


def generate(rng: random.Random) -> list[dict[str, Any]]:
    """A model HLC (l = max of its l, the request's l and its clock's ms; c counts within
    one l) under random bumps and drifts; sometimes broken: a node that ignores its
    clock or carries a big offset into l, forgets to merge, goes back, answers junk, or
    keeps counting c when its own clock opens a new l."""
    events: list[tuple[float, int, dict[str, Any]]] = []
    changes: list[tuple[float, dict[str, dict[str, float]] | list[str]]] = []
    t = 0.0
    while rng.random() < 0.7:
        t += rng.randrange(1, 30) * GRID
        mode = rng.choice(("bump", "drift"))
        targets = rng.sample(NODES, rng.randrange(1, 3))
        value = {n: ({"mode": mode, "offset": rng.randrange(-3000, 3000) / 1000} if mode == "bump"
                     else {"mode": mode, "drift": rng.randrange(-100, 100) / 1000}) for n in targets}
        changes.append((round(t, 2), value))
        t += rng.randrange(1, 30) * GRID
        changes.append((round(t, 2), targets))

    def clock_ms(node: str, at: float) -> int:
        s: dict[str, float] = {}
        for ct, v in changes:
            if ct <= at:
                if isinstance(v, dict) and node in v:
                    s = v[node]
                elif isinstance(v, list) and node in v:
                    s = {}
        return math.floor((at + s.get("offset", 0.0) + s.get("drift", 0.0) * at) * 1000)

    for ct, v in changes:
        events.append((ct, len(events), {"process": "nemesis", "type": "info",
                                         "f": "start-clock" if isinstance(v, dict) else "stop-clock", "value": v}))
    broken = rng.choice((None, None, None, "counter", "ahead", "no-merge", "back", "junk", "no-reset"))
    bad_node = rng.choice(NODES)
    ops = []
    held: list[list[int]] = []
    for p in range(rng.randrange(1, 10)):
        a = rng.randrange(0, 80) * GRID
        b = a + rng.randrange(2, 10) * GRID
        h = a + rng.randrange(0, round((b - a) / GRID) + 1) * GRID
        ops.append((round(h, 2), round(a, 2), round(b, 2), p, rng.choice(NODES)))
    state = {n: [0, 0] for n in NODES}
    for h, a, b, p, node in sorted(ops):
        seen = rng.choice(held) if held and rng.random() < 0.5 else None
        last_l, c = state[node]
        pt = clock_ms(node, h)
        bad = broken is not None and node == bad_node
        if bad and broken == "counter":
            pt = 0
        if bad and broken == "ahead":
            pt += rng.choice((3, 20, 300, 5000))
        seen_l, seen_c = seen if seen and not (bad and broken == "no-merge") else (-1, -1)
        m = max(last_l, pt, seen_l)
        if m == last_l == seen_l:
            c = max(c, seen_c) + 1
        elif m == last_l:
            c += 1
        elif m == seen_l:
            c = seen_c + 1
        else:
            c = c + 1 if bad and broken == "no-reset" else 0
        state[node] = [m, c]
        ts: Any = [m, c]
        if bad and broken == "back" and rng.random() < 0.5:
            ts = [max(0, m - 50), c]
        if bad and broken == "junk" and rng.random() < 0.3:
            ts = rng.choice(([m], [m, True], str(m), [float(m), c]))
        if _well_formed(ts):
            held.append(ts)
        events.append((a, len(events), {"process": p, "type": "invoke", "f": "stamp", "value": {"node": node,
                                                                                             "seen": seen}}))
        events.append((b, len(events), {"process": p, "type": "ok", "f": "stamp",
                                        "value": {"node": node, "seen": seen, "ts": ts}}))
    history = []
    for time, _, rec in sorted(events, key=lambda e: e[:2]):
        history.append({"index": len(history), "time": round(time * 1e9), **rec})
    return history


CASES = 1000


def _compare(check: Any, seed: int = 21) -> dict[Any, int]:
    rng = random.Random(seed)
    verdicts: dict[Any, int] = {}
    for _ in range(CASES):
        hist = generate(rng)
        want = oracle(hist)
        got = check(hist)
        assert got["valid"] == want, (want, got, hist)
        verdicts[want] = verdicts.get(want, 0) + 1
    return verdicts


def test_hlc_agrees_with_the_sampling_oracle() -> None:
    verdicts = _compare(hlc.check)
    assert min(verdicts.get(True, 0), verdicts.get(False, 0)) > 100, verdicts
