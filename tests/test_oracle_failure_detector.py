"""Failure detector checker against a time-grid oracle, on seeded random fault schedules.

The checker merges fault intervals (distlab/checkers/faults.py); the oracle
(tests/fault_oracle.py) replays the nemesis records and samples who was down and
which links were cut every quarter second, then applies completeness and accuracy
as the checker's docstring states them. Answers come from timeout detectors with
varying timeouts (so some miss failures and some suspect healthy nodes), with noise.
"""

from __future__ import annotations

import random
from typing import Any

from distlab.checkers import failure_detector
from tests.fault_oracle import NODES, STEP, Grid, nemesis_events

HORIZON = 20.0
DETECT, SETTLE = 2.0, 2.0


def oracle(history: list[dict[str, Any]], nodes: tuple[str, ...] = NODES) -> dict[str, bool]:
    g = Grid(history, HORIZON + 5)
    open_: dict[Any, dict[str, Any]] = {}
    calls: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    for rec in history:
        if rec["process"] == "nemesis":
            continue
        if rec["type"] == "invoke":
            open_[rec["process"]] = rec
            calls.append((rec, None))
        elif rec["process"] in open_:
            inv = open_.pop(rec["process"])
            calls = [(i, rec if i is inv else d) for i, d in calls]
    out = {"missed": False, "false": False, "final_unanswered": False, "malformed": False}
    answers = []
    for inv, done in calls:
        if done is None or done["type"] != "ok":
            out["final_unanswered"] |= bool(inv.get("final"))
            continue
        if not isinstance(done["value"].get("suspects"), list):
            out["malformed"] = True
            continue
        answers.append((inv["value"]["node"], inv["time"] / 1e9, done["time"] / 1e9, set(done["value"]["suspects"])))
    everyone = set(nodes) | {n for _, _, _, s in answers for n in s} | {a[0] for a in answers}
    for node, start, end, suspects in answers:
        for sender in everyone - {node}:
            def unheard(t: float, sender: str = sender, node: str = node) -> bool:
                return g.down(sender, t) or g.cut(node, sender, t)
            if all(unheard(t) for t in g.points(start, end)):
                a, _ = g.stretch(unheard, start)
                since = max(a, g.up_since(node, end))
                if start - since >= DETECT and sender not in suspects:
                    out["missed"] = True
                continue
            faulted = any(g.down(node, t) or g.down(sender, t) or g.cut(node, sender, t) or g.cut(sender, node, t)
                          for t in g.points(start - SETTLE, end))
            if sender in suspects and not faulted:
                out["false"] = True
    out["valid"] = not any(out.values())
    return out


def generate(rng: random.Random) -> list[dict[str, Any]]:
    nem = nemesis_events(rng, HORIZON)
    probe = Grid([{"process": "nemesis", "type": "info", "f": f, "value": v, "time": round(t * 1e9)}
                  for t, f, v in nem], HORIZON + 5)
    events: list[tuple[float, int, dict[str, Any]]] = []
    for t, f, v in nem:
        events.append((t, len(events), {"process": "nemesis", "type": "info", "f": f, "value": v}))
    proc = 0

    def call(node: str, start: float, end: float | None, suspects: Any, final: bool = False) -> None:
        nonlocal proc
        proc += 1
        extra = {"final": True} if final else {}
        events.append((start, len(events), {"process": proc, "type": "invoke", "f": "suspects",
                                            "value": {"node": node}, **extra}))
        if end is not None:
            ok = suspects is not None
            events.append((end, len(events), {"process": proc, "type": "ok" if ok else "info", "f": "suspects",
                                              "value": {"node": node, **({"suspects": suspects} if ok else {})}}))

    def detector(node: str, t: float, timeout: float) -> list[str]:
        """A timeout detector: suspects what it has not heard from for `timeout` s."""
        return [s for s in NODES if s != node
                and all(probe.down(s, x) or probe.cut(node, s, x) for x in probe.points(max(0, t - timeout), t))]

    for _ in range(rng.randrange(1, 10)):
        node = rng.choice(NODES)
        start = rng.randrange(0, int(HORIZON) * 2) / 2
        end = start + rng.randrange(0, 3) / 2
        suspects: Any = detector(node, start, rng.choice((0.5, 1.0, 1.5, 2.0, 2.0, 2.0, 3.0)))
        r = rng.random()
        if r < 0.05:
            suspects = rng.choice(("n1", None, {"n1": True}))
        elif r < 0.12:
            suspects = sorted(set(suspects) ^ {rng.choice([n for n in NODES if n != node])})
        call(node, start, end, suspects if suspects is not None or rng.random() < 0.5 else [])
    end_t = HORIZON + 3
    if rng.random() < 0.7:
        for node in NODES:
            r = rng.random()
            call(node, end_t, None if r < 0.05 else end_t + 0.5, [] if r > 0.1 else [rng.choice(NODES)], final=True)
    history = []
    for time, _, rec in sorted(events, key=lambda e: e[:2]):
        history.append({"index": len(history), "time": round(time * 1e9), **rec})
    return history


CASES = 1000


def _compare(check: Any, seed: int = 31) -> dict[bool, int]:
    rng = random.Random(seed)
    verdicts = {True: 0, False: 0}
    for _ in range(CASES):
        hist = generate(rng)
        want = oracle(hist)
        got = check(hist, detect_within=DETECT, settle=SETTLE, nodes=NODES)
        assert (got["valid"], got["missed_count"] > 0, got["false_count"] > 0) == (
            want["valid"], want["missed"], want["false"]), (want, got, hist)
        verdicts[want["valid"]] += 1
    return verdicts


def test_failure_detector_agrees_with_the_grid_oracle() -> None:
    assert STEP * 2 == 0.5  # every event is on a half second
    verdicts = _compare(failure_detector.check)
    assert min(verdicts.values()) > 100, verdicts
