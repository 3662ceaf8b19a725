"""Raft trace checker against an oracle on seeded random traces of a model Raft, valid
and broken, written as node logs and read back by `check_logs`.

The checker compares leaders' logs as run-length-encoded step functions and keeps
running maps of what was committed; the oracle expands every log to one term per
index and checks Raft's safety properties as stated in the checker's docstring, by
looking at every pair of leaders, every index and every event.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson

from distlab.checkers.raft_trace import check_logs, command_id, term_runs

NODES = ("n0", "n1", "n2")
Event = tuple[float, str, str, dict[str, Any]]  # time, node, kind, data


def _terms(data: dict[str, Any]) -> dict[int, int]:
    """A leader line's log, index -> term, from its snapshot index up to `last`."""
    runs = data["runs"]
    return {i: next(t for s, t in reversed(runs) if s <= i) for i in range(runs[0][0], data["last"] + 1)}


def oracle(events: list[Event]) -> set[str]:
    """The properties violated: election, matching, state_machine, order, completeness."""
    bad: set[str] = set()
    leaders = [(t, n, d) for t, n, k, d in events if k == "leader"]
    for _, n1, d1 in leaders:
        for _, n2, d2 in leaders:
            if d1["term"] == d2["term"] and n1 != n2:
                bad.add("election")
    for x, (_, _, d1) in enumerate(leaders):
        for _, _, d2 in leaders[x + 1:]:
            a, b = _terms(d1), _terms(d2)
            common = sorted(set(a) & set(b))
            for i in common:
                if a[i] == b[i] and any(a[j] != b[j] for j in common if j < i):
                    bad.add("matching")
    applies = [(t, n, d) for t, n, k, d in events if k == "apply"]
    for _, _, d1 in applies:
        for _, _, d2 in applies:
            if d1["i"] == d2["i"] and (d1["t"], d1["h"]) != (d2["t"], d2["h"]):
                bad.add("state_machine")
    for _, _, k, d in events:
        # a snapshot holds its last entry: every node that applies that index, before or
        # after, must apply the same term
        if k == "restore" and any(d2["i"] == d["i"] and d2["t"] != d["t"] for _, _, d2 in applies):
            bad.add("state_machine")
        if k == "restore" and d["i"] > 0 and any(k2 == "restore" and d2["i"] == d["i"] and d2["t"] != d["t"]
                                                 for _, _, k2, d2 in events):
            bad.add("state_machine")
    for node in NODES:
        last: int | None = None
        for _, n, k, d in events:
            if n != node:
                continue
            if k == "started":
                last = None
            elif k == "restore":
                last = d["i"]
            elif k == "apply":
                if d["i"] != (1 if last is None else last + 1):
                    bad.add("order")
                last = d["i"]
    for tl, _, d in leaders:
        log, first = _terms(d), d["runs"][0][0]
        for i in {d2["i"] for _, _, d2 in applies}:
            t_first = min(ta for ta, _, d2 in applies if d2["i"] == i)
            term = next(d2["t"] for ta, _, d2 in applies if d2["i"] == i and ta == t_first)
            bound = max([d3["term"] for t3, _, d3 in leaders if t3 <= t_first], default=0)
            if i > first and t_first < tl and bound < d["term"] and log.get(i) != term:
                bad.add("completeness")
    return bad


def generate(rng: random.Random) -> list[Event]:
    """A model Raft: each new leader holds the committed entries and maybe more, appends
    entries of its term, and nodes apply committed entries in order, some restarting from
    a snapshot; then sometimes one bug is planted."""
    events: list[Event] = [(0.0, n, "started", {}) for n in NODES]
    log: list[tuple[int, str]] = []  # the current leader's log: (term, command id) per index from 1
    commit = 0
    applied = {n: 0 for n in NODES}
    term, t = 0, 0.0
    bug = rng.choice((None, None, "election", "matching", "matching", "apply", "order", "completeness",
                      "completeness", "restore"))
    planted = False
    for _ in range(rng.randrange(3, 24)):
        t += 0.125
        step = rng.random()
        if step < 0.2 or term == 0:
            term += rng.choice((1, 1, 2))
            keep = rng.randrange(commit, len(log) + 1)
            if bug == "completeness" and not planted and commit > 0 and rng.random() < 0.5:
                keep, planted = rng.randrange(0, commit), True
            log = log[:keep]
            commit = min(commit, keep)
            node = rng.choice(NODES)
            snap = rng.choice((0, 0, min(commit, keep)))
            terms = [tm for tm, _ in log]
            runs = term_runs(snap, log[snap - 1][0] if snap else 0, terms[snap:])
            if bug == "matching" and not planted and len(runs) > 2:
                runs = [list(r) for r in runs]
                runs[1][1] += 100  # an early entry's term differs, later ones agree
                planted = True
            events.append((t, node, "leader", {"term": term, "last": len(log), "runs": runs}))
            if bug == "election" and not planted and rng.random() < 0.5:
                other = rng.choice([n for n in NODES if n != node])
                events.append((t + 0.01, other, "leader", {"term": term, "last": len(log), "runs": runs}))
                planted = True
        elif step < 0.45:
            for _ in range(rng.randrange(1, 3)):
                log.append((term, command_id([term, len(log), rng.random()])))
        elif step < 0.6:
            commit = rng.randrange(commit, len(log) + 1)
        elif step < 0.9:
            node = rng.choice(NODES)
            if applied[node] < commit:
                i = applied[node] + 1
                tm, h = log[i - 1]
                if bug == "apply" and not planted and rng.random() < 0.6:
                    tm, h, planted = tm + 50, "bogus", True
                if bug == "order" and not planted and rng.random() < 0.6 and i + 1 <= commit:
                    i, planted = i + 1, True
                    tm, h = log[i - 1]
                events.append((t, node, "apply", {"i": i, "t": tm, "h": h}))
                applied[node] = i
        else:
            node = rng.choice(NODES)
            events.append((t, node, "started", {}))
            upto = rng.randrange(0, commit + 1)  # its own snapshot, or one a leader sent
            if upto:
                tm = log[upto - 1][0]
                if bug == "restore" and not planted:
                    tm, planted = tm + 7, True
                events.append((t + 0.01, node, "restore", {"i": upto, "t": tm}))
            applied[node] = upto
    return sorted(events, key=lambda e: e[0])


def write_logs(root: Path, events: list[Event]) -> Path:
    (root / "node-logs").mkdir(parents=True)
    lines: dict[str, list[str]] = {n: [] for n in NODES}
    for t, node, kind, data in events:
        text = "[distlab] started" if kind == "started" else "raft " + orjson.dumps({"ev": kind, **data}).decode()
        lines[node].append(f"{t:12.6f} {text}\n")
    for node, text in lines.items():
        (root / "node-logs" / f"{node}.log").write_text("".join(text))
    return root


KINDS = {"election": "election safety", "matching": "log matching", "state_machine": "state machine safety",
         "completeness": "leader completeness"}
CASES = 1000


def _compare(check: Any, root: Path, seed: int = 6) -> dict[str, int]:
    rng = random.Random(seed)
    counts: dict[str, int] = {"safe": 0}
    for case in range(CASES):
        events = generate(rng)
        want = oracle(events)
        report = check(write_logs(root / str(case), events))
        got = {name for name, phrase in KINDS.items() if any(v.startswith(phrase) for v in report.violations)}
        if any("out of order" in v or "first after a start" in v for v in report.violations):
            got.add("order")
        assert report.ok == (not want), (want, report.violations, events)
        assert got == want, (want, report.violations, events)
        for name in want or {"safe"}:
            counts[name] = counts.get(name, 0) + 1
    return counts


def test_raft_trace_agrees_with_the_expanded_log_oracle(tmp_path: Path) -> None:
    counts = _compare(check_logs, tmp_path)
    assert counts["safe"] > 100 and all(counts.get(k, 0) > 10 for k in (*KINDS, "order")), counts


def test_a_snapshot_that_disagrees_with_a_later_apply_is_caught(tmp_path: Path) -> None:
    """Regression: n1 installed a snapshot ending at entry 1 with term 8 (entry 1 is of
    term 1) before any node applied entry 1; n0 then applied entry 1 of term 1, and the
    checker, comparing a restore only with entries applied before it, said safe."""
    events: list[Event] = [
        (0.0, "n0", "started", {}), (0.0, "n1", "started", {}),
        (0.5, "n0", "leader", {"term": 1, "last": 1, "runs": [[0, 0], [1, 1]]}),
        (1.0, "n1", "started", {}), (1.01, "n1", "restore", {"i": 1, "t": 8}),
        (2.0, "n0", "apply", {"i": 1, "t": 1, "h": command_id("x")}),
    ]
    assert oracle(events) == {"state_machine"}
    report = check_logs(write_logs(tmp_path / "bad", events))
    assert report.violations and "n1 had restored a snapshot ending at 1 of term 8" in report.violations[0]
    events[4] = (1.01, "n1", "restore", {"i": 1, "t": 1})
    assert check_logs(write_logs(tmp_path / "good", events)).ok
