"""Unique ids: no id may be handed out twice, whatever faults happened."""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from distlab.history import INVOKE, NEMESIS, OK


def check(history: list[dict[str, Any]]) -> dict[str, Any]:
    attempted = 0
    ids: list[Any] = []
    for rec in history:
        if rec["process"] == NEMESIS:
            continue
        if rec["type"] == INVOKE:
            attempted += 1
        elif rec["type"] == OK:
            ids.append(rec["value"])
    # ids may be any JSON value; canonical JSON makes 1 and "1" differ and dicts comparable.
    # Ids that are all strings and ints (bools are neither) are counted as they are, which
    # tells the same ids apart at C speed; only the duplicates are then encoded.
    if set(map(type, ids)) <= {str, int}:
        counts = Counter(ids)
        dups = {orjson.dumps(k): n for k, n in counts.items() if n > 1}
    else:
        counts = Counter(orjson.dumps(v, option=orjson.OPT_SORT_KEYS) for v in ids)
        dups = {k: n for k, n in counts.items() if n > 1}
    worst = sorted(dups.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    # the ids handed out more than once, most repeated first, as [id, times]
    return {
        "valid": not dups,
        "attempted_count": attempted,
        "acknowledged_count": len(ids),
        "duplicated_count": len(dups),
        "duplicated": [[orjson.loads(k), n] for k, n in worst],
    }


def check_dense(history: list[dict[str, Any]]) -> dict[str, Any]:
    """Dense ids (a shared sequence: invoice numbers, PostgreSQL's sequences): unique, and
    the acknowledged ids are 0, 1, 2, ... with no number skipped. A request that was not
    acknowledged (it failed or timed out) may have claimed a number nobody saw, so each
    one excuses one gap; uniqueness alone would pass ids with holes, e.g. block leases."""
    out = check(history)
    ids = [rec["value"] for rec in history if rec["process"] != NEMESIS and rec["type"] == OK]
    bad = next((v for v in ids if type(v) is not int or v < 0), None)
    if bad is not None:
        out.update(valid=False, explanation=f"the id {bad!r} is not a whole number from 0 up: "
                   "dense ids are 0, 1, 2, ...")
        return out
    seen = set(ids)
    top = max(seen, default=-1)
    gaps = [i for i in range(top + 1) if i not in seen]
    excused = out["attempted_count"] - out["acknowledged_count"]
    out["gap_count"] = len(gaps)
    out["gaps"] = gaps[:10]
    if len(gaps) > excused:
        first = ", ".join(map(str, gaps[:3])) + (", ..." if len(gaps) > 3 else "")
        out.update(valid=False, explanation=(
            f"the ids skip {len(gaps)} number(s) below {top} ({first}), but only {excused} "
            f"request(s) went unanswered: dense ids leave no gaps"))
    return out
