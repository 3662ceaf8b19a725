"""set-full (broadcast, g-set) against an oracle written from its definition, on a few
hundred small seeded histories, valid and mutated.

The oracle does not share the checker's bookkeeping: it pairs calls itself, and for
each element looks at the whole list of reads at once (the last read to be invoked
decides stable / lost / never read) instead of keeping running maxima per element.
"""

from __future__ import annotations

import random
from typing import Any

import orjson

from distlab.checkers import set_full

MS = 1_000_000
ADDS = ("add", "broadcast")


def _key(v: Any) -> bytes:
    return orjson.dumps(v, option=orjson.OPT_SORT_KEYS)


def _pair(history: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Invocation -> completion: a completion closes its process's open call."""
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


def _final(rec: dict[str, Any]) -> bool:
    return bool(rec.get("final") or rec.get("final?"))


def oracle(history: list[dict[str, Any]], linearizable: bool = False) -> dict[str, Any]:
    """Jepsen's set-full per element, plus distlab's duplicated / unexpected / final rules."""
    calls = _pair(history)
    first_add: dict[bytes, int] = {}  # element -> index of its first add invocation
    ok_add: dict[bytes, int] = {}  # element -> index of its first ok add completion
    for inv, done in calls:
        if inv["f"] in ADDS:
            k = _key(inv["value"])
            first_add[k] = min(first_add.get(k, inv["index"]), inv["index"])
            if done is not None and done["type"] == "ok":
                ok_add[k] = min(ok_add.get(k, done["index"]), done["index"])
    reads = [(inv, done) for inv, done in calls
             if inv["f"] == "read" and done is not None and done["type"] == "ok"]
    malformed = any(not isinstance(done["value"], list) for _, done in reads)
    reads = [(inv, done, [_key(v) for v in done["value"]]) for inv, done in reads if isinstance(done["value"], list)]
    failed_final = any(inv["f"] == "read" and _final(inv) and (done is None or done["type"] != "ok")
                       for inv, done in calls)
    duplicated = any(len(set(keys)) < len(keys) for _, _, keys in reads)
    # an element no add invocation (anywhere, or before the read completed) accounts for
    unexpected = any(k not in first_add or first_add[k] > done["index"] for _, done, keys in reads for k in keys)

    cats = {"stable": 0, "lost": 0, "never": 0, "stale": 0}
    final_missing = False
    for k, added_at in first_add.items():
        # reads that completed after the element's first add was invoked
        rs = [(inv, done, k in keys) for inv, done, keys in reads if done["index"] > added_at]
        candidates = ([ok_add[k]] if k in ok_add else []) + [done["index"] for _, done, seen in rs if seen]
        known = min(candidates, default=None)  # when the element became known
        if known is not None and any(_final(inv) and not seen and inv["index"] > known for inv, _, seen in rs):
            final_missing = True
        if not rs:
            cats["never"] += 1
            continue
        last_inv, _, last_seen = max(rs, key=lambda r: r[0]["index"])
        if last_seen:
            cats["stable"] += 1
            if any(not seen and inv["index"] > known for inv, _, seen in rs):
                cats["stale"] += 1
        elif known is not None and last_inv["index"] > known:
            cats["lost"] += 1
        else:
            cats["never"] += 1
    bad = (cats["lost"] or duplicated or unexpected or malformed or final_missing
           or (linearizable and cats["stale"]))
    valid: Any = False if bad else ("unknown" if not cats["stable"] or failed_final else True)
    return {"valid": valid, **cats, "final_missing": final_missing}


def generate(rng: random.Random) -> list[dict[str, Any]]:
    """A small concurrent history of adds and reads; reads mostly see what has been
    applied, and sometimes are mutated (an element dropped, repeated, one not yet added
    or never added, an unacknowledged one); the last reads may be marked final."""
    procs = rng.randrange(1, 4)
    history: list[dict[str, Any]] = []
    open_: dict[int, dict[str, Any]] = {}
    applied: list[int] = []
    invoked: list[int] = []
    next_el = 0
    steps = rng.randrange(2, 14)
    finals = rng.random() < 0.5

    def rec(p: int, type_: str, f: str, value: Any, **extra: Any) -> dict[str, Any]:
        r = {"index": len(history), "time": len(history) * MS, "process": p, "type": type_, "f": f,
             "value": value, **extra}
        history.append(r)
        return r

    for step in range(steps + procs * 2):
        ending = step >= steps
        p = rng.randrange(procs) if not ending else (step - steps) // 2
        if p in open_:
            op = open_.pop(p)
            if op["f"] == "read":
                seen = list(applied) if rng.random() < 0.7 else rng.sample(invoked, rng.randrange(len(invoked) + 1))
                r = rng.random()
                if r < 0.08 and seen:
                    seen.remove(rng.choice(seen))
                elif r < 0.12 and seen:
                    seen.append(rng.choice(seen))
                elif r < 0.15:
                    seen.append("ghost")
                elif r < 0.18:
                    seen.append(next_el)  # an element whose add comes later
                rng.shuffle(seen)
                outcome = "ok" if rng.random() < 0.93 else rng.choice(("fail", "info"))
                rec(p, outcome, "read", seen if outcome == "ok" else None, **({"final": True} if op.get("final") else {}))
            else:
                outcome = rng.choices(("ok", "info", "fail"), (8, 1, 1))[0]
                if outcome == "ok" or (outcome == "info" and rng.random() < 0.5):
                    if op["value"] not in applied:
                        applied.append(op["value"])
                rec(p, outcome, op["f"], op["value"])
            continue
        if ending and p >= procs:
            break
        if ending or rng.random() < 0.45:
            extra = {"final": True} if ending and finals else {}
            open_[p] = rec(p, "invoke", "read", None, **extra)
        else:
            v = next_el if rng.random() < 0.85 or not invoked else rng.choice(invoked)  # g-set re-adds
            if v == next_el:
                next_el += 1
            invoked.append(v)
            open_[p] = rec(p, "invoke", rng.choice(ADDS), v)
        if rng.random() < 0.2 and applied and open_.get(p, {}).get("f") in ADDS:
            applied.append(open_[p]["value"])  # visible before the add returns
    return history


CASES = 1500


def _compare(check: Any, seed: int = 2024) -> dict[Any, int]:
    rng = random.Random(seed)
    verdicts: dict[Any, int] = {}
    for _ in range(CASES):
        hist = generate(rng)
        for lin in (False, True):
            want = oracle(hist, linearizable=lin)
            got = check(hist, linearizable=lin)
            assert got["valid"] == want["valid"], (lin, want, got, hist)
            assert (got["lost_count"], got["stable_count"], got["stale_count"]) == (
                want["lost"], want["stable"], want["stale"]), (want, got, hist)
            assert (got["final_missing_count"] > 0) == want["final_missing"], (want, got, hist)
            verdicts[want["valid"]] = verdicts.get(want["valid"], 0) + 1
    return verdicts


def test_set_full_agrees_with_the_oracle_on_random_histories() -> None:
    verdicts = _compare(set_full.check)
    assert min(verdicts.get(v, 0) for v in (True, False, "unknown")) > 50, verdicts


def test_reading_an_element_before_its_add_was_invoked_is_unexpected() -> None:
    """Regression: a read completed before anyone invoked add(7) returned 7; the checker
    skipped it (7 was not yet an element) and, once add(7) came, said valid."""
    hist = [
        {"index": 0, "time": 0, "process": 0, "type": "invoke", "f": "read", "value": None},
        {"index": 1, "time": MS, "process": 0, "type": "ok", "f": "read", "value": [7]},
        {"index": 2, "time": 2 * MS, "process": 1, "type": "invoke", "f": "add", "value": 7},
        {"index": 3, "time": 3 * MS, "process": 1, "type": "ok", "f": "add", "value": 7},
        {"index": 4, "time": 4 * MS, "process": 0, "type": "invoke", "f": "read", "value": None},
        {"index": 5, "time": 5 * MS, "process": 0, "type": "ok", "f": "read", "value": [7]},
    ]
    assert oracle(hist)["valid"] is False
    r = set_full.check(hist)
    assert r["valid"] is False and r["unexpected"] == [7]
