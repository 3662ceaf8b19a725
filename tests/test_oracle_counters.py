"""Counters (g-counter, pn-counter) against an oracle that enumerates subsets of adds,
on a few hundred small seeded histories, valid and mutated.

The checker keeps running sums and merges integer ranges; the oracle pairs calls
itself and, for each read, lists every subset of the adds that may have happened
and sums it. For the non-final reads the checker's documented rule is an interval
(the hull of those sums, as Jepsen's counter checker has it), so the oracle takes
min and max of the enumerated sums there; for final reads it demands the exact set.
"""

from __future__ import annotations

import random
from itertools import combinations
from typing import Any

from distlab.checkers import counters

MS = 1_000_000


def _pair(history: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    out: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    open_: dict[Any, int] = {}
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


def _sums(base: int, deltas: list[int]) -> set[int]:
    """base + the sum of every subset of deltas, by listing the subsets."""
    return {base + sum(c) for r in range(len(deltas) + 1) for c in combinations(deltas, r)}


def _marked(rec: dict[str, Any] | None) -> bool:
    return bool(rec and (rec.get("final") or rec.get("final?")))


def oracle(history: list[dict[str, Any]], grow_only: bool = False, linearizable: bool = False) -> Any:
    calls = _pair(history)
    adds = [(inv, done) for inv, done in calls if inv["f"] == "add"]
    if any(type(inv["value"]) is not int for inv, _ in adds):
        return "unknown"
    if grow_only and any(inv["value"] < 0 for inv, _ in adds):
        return False
    live = [(inv, done) for inv, done in adds if not (done is not None and done["type"] == "fail")]
    certain = sum(inv["value"] for inv, done in live if done is not None and done["type"] == "ok")
    maybe = [inv["value"] for inv, done in live if done is None or done["type"] != "ok"]
    end_sums = _sums(certain, maybe)
    any_marked = any(_marked(r) for r in history if r["process"] != "nemesis")
    last_add = max((r["index"] for r in history if r["process"] != "nemesis" and r["f"] == "add"), default=-1)
    last_fault = max((r["index"] for r in history if r["process"] == "nemesis"), default=-1)
    finals = 0
    for inv, done in calls:
        if inv["f"] != "read":
            continue
        if done is None or done["type"] != "ok":
            if _marked(inv):
                finals = -10**9  # a final read that did not succeed: never True
            continue
        v = done["value"]
        if type(v) is not int:
            return False
        possible = [i["value"] for i, d in live if i["index"] < done["index"]]
        sums = _sums(0, possible)
        if not min(sums) <= v <= max(sums):
            return False
        if linearizable:
            must = [i for i, d in live if d is not None and d["type"] == "ok" and d["index"] < inv["index"]]
            rest = [i["value"] for i, d in live if i["index"] < done["index"] and all(i is not m for m in must)]
            s = _sums(sum(m["value"] for m in must), rest)
            if not min(s) <= v <= max(s):
                return False
        final = (_marked(inv) or _marked(done)) if any_marked else (inv["index"] > last_add
                                                                    and inv["index"] > last_fault)
        if final:
            if v not in end_sums:
                return False
            finals += 1
    return True if finals > 0 else "unknown"


def generate(rng: random.Random, grow_only: bool) -> list[dict[str, Any]]:
    """Concurrent adds and reads; each add takes effect inside its call (an indeterminate
    one maybe), reads mostly see the counter at some instant of their call and sometimes
    a wrong value; at the end one read per process, marked final or not, maybe after a
    fault record."""
    procs = rng.randrange(1, 4)
    history: list[dict[str, Any]] = []
    open_: dict[int, dict[str, Any]] = {}
    value = 0
    values_seen = [0]
    mark = rng.random() < 0.6

    def rec(p: Any, type_: str, f: str, v: Any, **extra: Any) -> dict[str, Any]:
        r = {"index": len(history), "time": len(history) * MS, "process": p, "type": type_, "f": f,
             "value": v, **extra}
        history.append(r)
        return r

    steps = rng.randrange(2, 14)
    for _ in range(steps):
        p = rng.randrange(procs)
        if p in open_:
            op = open_.pop(p)
            if op["f"] == "add":
                outcome = rng.choices(("ok", "info", "fail"), (7, 2, 1))[0]
                if (outcome == "ok" or (outcome == "info" and rng.random() < 0.5)) and type(op["value"]) is int:
                    value += op["value"]
                    values_seen.append(value)
                rec(p, outcome, "add", op["value"])
            else:
                v = value if rng.random() < 0.8 else rng.choice(values_seen)
                if rng.random() < 0.15:
                    v += rng.choice((-2, -1, 1, 2, 5))
                rec(p, "ok" if rng.random() < 0.95 else "fail", "read", v)
        elif rng.random() < 0.5:
            d = rng.randrange(0, 4) if grow_only else rng.randrange(-3, 4)
            if rng.random() < 0.03:
                d = -1 if rng.random() < 0.7 else "1"
            open_[p] = rec(p, "invoke", "add", d)
        else:
            open_[p] = rec(p, "invoke", "read", None)
    for p, op in list(open_.items()):  # some calls never complete
        if rng.random() < 0.5:
            continue
        del open_[p]
        if op["f"] == "add":
            if rng.random() < 0.5:
                value += op["value"] if type(op["value"]) is int else 0
            rec(p, rng.choice(("ok", "info")), "add", op["value"])
        else:
            rec(p, "ok", "read", value)
    if rng.random() < 0.2:
        rec("nemesis", "info", "stop-partition", None)
    for p in range(procs):
        pp = p + 10  # a fresh process, so no open call is in the way
        extra = {"final": True} if mark else {}
        rec(pp, "invoke", "read", None, **extra)
        v = value
        if rng.random() < 0.15:
            v += rng.choice((-1, 1, 3))
        outcome = "ok" if rng.random() < 0.95 else "info"
        rec(pp, outcome, "read", v if outcome == "ok" else None)
    return history


CASES = 2000


def _compare(check: Any, seed: int = 99) -> dict[Any, int]:
    rng = random.Random(seed)
    verdicts: dict[Any, int] = {}
    for i in range(CASES):
        grow_only = i % 2 == 0
        hist = generate(rng, grow_only)
        for lin in (False, True):
            want = oracle(hist, grow_only=grow_only, linearizable=lin)
            got = check(hist, grow_only=grow_only, linearizable=lin)
            assert got["valid"] == want, (grow_only, lin, want, got, hist)
            verdicts[want] = verdicts.get(want, 0) + 1
    return verdicts


def test_counters_agree_with_the_subset_oracle_on_random_histories() -> None:
    verdicts = _compare(counters.check)
    assert min(verdicts.get(v, 0) for v in (True, False, "unknown")) > 50, verdicts
