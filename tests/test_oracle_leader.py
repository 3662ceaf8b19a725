"""Leader checker: the whole verdict against a time-grid oracle on seeded fault schedules.

tests/test_elector.py compares the term sweep alone with brute force; this compares
every rule (one leader per term, terms never back, no dead leader, no flapping, no
healthy leader deposed, the final agreement), with faults read back by replaying the
nemesis on a grid (tests/fault_oracle.py) and every rule applied over all pairs of
answers. Answers come from a model election that follows the faults, lagging and
sometimes wrong.
"""

from __future__ import annotations

import random
from typing import Any

from distlab.checkers import leader
from tests.fault_oracle import NODES, Grid, nemesis_events

HORIZON = 20.0
DETECT, SETTLE = 2.0, 2.0


def _calls(history: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    open_: dict[Any, int] = {}
    out: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    for rec in history:
        if rec["process"] == "nemesis":
            continue
        if rec["type"] == "invoke":
            open_[rec["process"]] = len(out)
            out.append((rec, None))
        elif rec["process"] in open_:
            i = open_.pop(rec["process"])
            out[i] = (out[i][0], rec)
    return out


def _rank(node: str) -> int:
    return int(node[1:])


def oracle(history: list[dict[str, Any]], terms: bool = True, highest_wins: bool = False,
           no_disruption: bool = False) -> dict[str, bool]:
    g = Grid(history, HORIZON + 5)
    found = dict.fromkeys(("two_leaders", "term_went_back", "dead_leader", "flapping", "disrupted", "final",
                           "malformed"), False)
    answers = []  # node, start, end, leader, term, final
    unanswered_final = False
    for inv, done in _calls(history):
        node = inv["value"]["node"]
        if done is None or done["type"] != "ok":
            unanswered_final |= bool(inv.get("final"))
            continue
        ld, term = done["value"].get("leader"), done["value"].get("term")
        if (ld is not None and type(ld) is not str) or (term is not None and type(term) is not int) \
                or (terms and term is None):
            found["malformed"] = True
            continue
        answers.append((node, inv["time"] / 1e9, done["time"] / 1e9, ld, term, bool(inv.get("final"))))
    named = [a for a in answers if a[3] is not None]
    for a in named:
        for b in named:
            if a[4] is not None and a[4] == b[4] and a[3] != b[3]:
                found["two_leaders"] = True
    for a in answers:
        for b in answers:
            if a[0] == b[0] and a[4] is not None and b[4] is not None and a[2] < b[1] and b[4] < a[4]:
                found["term_went_back"] = True
    for node, start, end, ld, _term, _ in named:
        if ld == node:
            continue
        span = g.stretch(lambda t, ld=ld: g.down(ld, t), start)
        if span is not None and start - max(span[0], g.up_since(node, end)) >= DETECT and end <= span[1]:
            found["dead_leader"] = True
    # a quiet stretch: no fault at any grid point from its start through the answer
    groups: dict[float, list[tuple[float, str, Any]]] = {}
    for _node, start, end, ld, term, _ in named:
        if g.any_fault(start):
            continue
        since = max([t for t in g.points(0, start) if g.any_fault(t)], default=0.0)
        if start - since >= SETTLE and not any(g.any_fault(t) for t in g.points(start, end)):
            groups.setdefault(since, []).append((start, ld, term if terms else ld))
    for rows in groups.values():
        first = min(rows, key=lambda r: r[0])
        if any(key != first[2] and (not terms or key > first[2]) for _s, _l, key in rows):
            found["flapping"] = True
    if no_disruption and terms:
        need = len(NODES) // 2 + 1
        current: tuple[int, str] | None = None
        for _node, start, _end, ld, term, _ in sorted(named, key=lambda a: a[1]):
            if current is not None and term > current[0]:
                ends = [a[2] for a in named if (a[4], a[3]) == current and a[2] <= start]
                if ends:
                    window = g.points(max(ends) - 1.0, start)
                    up = not any(g.down(current[1], t) or g.lossy(t) for t in window)
                    with_it = [o for o in NODES if o != current[1] and not any(
                        g.down(o, t) or g.cut(o, current[1], t) or g.cut(current[1], o, t) for t in window)]
                    if up and len(with_it) + 1 >= need:
                        found["disrupted"] = True
            if current is None or term > current[0]:
                current = (term, ld)
    finals = [(a[0], a[3]) for a in answers if a[5]]
    leaders = {ld for _, ld in finals}
    if unanswered_final or (finals and (len(leaders) != 1 or None in leaders)) \
            or (finals and highest_wins and leaders != {max(NODES, key=_rank)}):
        found["final"] = True
    found["valid"] = not any(found.values())
    return found


def generate(rng: random.Random, terms: bool) -> list[dict[str, Any]]:
    """A model election: the leader is replaced (new term, some node that is up) a while
    after it goes down, sometimes for no reason; nodes answer with what they last
    heard, sometimes stale or wrong."""
    nem = nemesis_events(rng, HORIZON)
    probe = Grid([{"process": "nemesis", "type": "info", "f": f, "value": v, "time": round(t * 1e9)}
                  for t, f, v in nem], HORIZON + 5)
    events: list[tuple[float, int, dict[str, Any]]] = [
        (t, i, {"process": "nemesis", "type": "info", "f": f, "value": v}) for i, (t, f, v) in enumerate(nem)]
    # the true leader over time: (from, leader, term)
    reign: list[tuple[float, str, int]] = [(0.0, rng.choice(NODES), 1)]
    t = 0.0
    while t < HORIZON:
        t += 0.5
        lead, term = reign[-1][1], reign[-1][2]
        dead_for = t - (probe.stretch(lambda x, lead=lead: probe.down(lead, x), t) or (t, t))[0]
        if dead_for >= rng.choice((1.0, 1.5, 2.5)) or rng.random() < 0.02:
            up = [n for n in NODES if not probe.down(n, t)] or list(NODES)
            reign.append((t, max(up, key=_rank) if not terms else rng.choice(up), term + 1))

    def at(t: float) -> tuple[str, int]:
        return next((ld, tm) for since, ld, tm in reversed(reign) if since <= t)

    proc = 0

    def call(node: str, start: float, end: float | None, value: dict[str, Any] | None, final: bool = False) -> None:
        nonlocal proc
        proc += 1
        extra = {"final": True} if final else {}
        events.append((start, len(events), {"process": proc, "type": "invoke", "f": "leader", "value": {"node": node},
                                            **extra}))
        if end is not None:
            events.append((end, len(events), {"process": proc, "type": "ok" if value is not None else "info",
                                              "f": "leader", "value": {"node": node, **(value or {})}}))

    for _ in range(rng.randrange(1, 10)):
        node = rng.choice(NODES)
        start = rng.randrange(0, int(HORIZON) * 2) / 2
        end = start + rng.randrange(0, 3) / 2
        ld, term = at(max(0.0, start - rng.choice((0, 0, 0, 0.5, 1.5, 3))))  # what it last heard
        value: dict[str, Any] = {"leader": ld, "term": term if terms else None}
        r = rng.random()
        if r < 0.05:
            value = {"leader": rng.choice(NODES), "term": term}
        elif r < 0.08:
            value = {"leader": 3, "term": "1"} if rng.random() < 0.5 else {"leader": None, "term": None}
        call(node, start, end, value)
    if rng.random() < 0.8:
        end_t = HORIZON + 3
        ld, term = reign[-1][1], reign[-1][2]
        for node in NODES:
            r = rng.random()
            value = {"leader": ld if r > 0.08 else rng.choice((None, *NODES)), "term": term if terms else None}
            call(node, end_t, None if r < 0.03 else end_t + 0.5, value, final=True)
    history = []
    for time, _, rec in sorted(events, key=lambda e: e[:2]):
        history.append({"index": len(history), "time": round(time * 1e9), **rec})
    return history


CASES = 600
RULES = ("two_leaders", "term_went_back", "dead_leader", "flapping", "disrupted")


def _compare(check: Any, seed: int = 13) -> dict[Any, int]:
    rng = random.Random(seed)
    verdicts: dict[Any, int] = {}
    for i in range(CASES):
        terms = i % 3 != 0
        hist = generate(rng, terms)
        for highest_wins, no_disruption in ((False, False), (not terms, terms)):
            want = oracle(hist, terms=terms, highest_wins=highest_wins, no_disruption=no_disruption)
            got = check(hist, detect_within=DETECT, settle=SETTLE, terms=terms, highest_wins=highest_wins,
                        nodes=NODES, no_disruption=no_disruption)
            assert got["valid"] is want["valid"], (terms, highest_wins, no_disruption, want, got, hist)
            assert {r for r in RULES if got[r]} == {r for r in RULES if want[r]}, (want, got, hist)
            verdicts[want["valid"]] = verdicts.get(want["valid"], 0) + 1
            for rule in RULES:
                verdicts[rule] = verdicts.get(rule, 0) + want[rule]
    return verdicts


def test_leader_agrees_with_the_grid_oracle() -> None:
    verdicts = _compare(leader.check)
    assert min(verdicts[True], verdicts[False]) > 200, verdicts
    assert min(verdicts[r] for r in RULES) > 10, verdicts
