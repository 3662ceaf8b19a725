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
