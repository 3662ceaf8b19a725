"""Set-full: Jepsen's per-element set analysis, for broadcast and g-set.

History shape (Maelstrom's broadcast and g-set workloads):

- ``{"f": "add", "value": element}`` invoke, then ok / fail / info. Broadcast's
  ``"broadcast"`` is the same operation and is accepted as ``f`` too.
- ``{"f": "read", "value": None}`` invoke, then ok with ``value`` = list of elements.
  Failed or indeterminate reads are ignored (they observed nothing).

For each element (following ``jepsen.checker/set-full``):

- *known*: the add's ok completion, or the completion of the first read that saw
  the element, whichever comes first in the history.
- *stable*: some read saw it, and every read invoked after the last read that missed
  it saw it. *Stale*: stable, but a read invoked after the element was known missed
  it (fine for an eventually consistent set, a violation when ``linearizable``).
- *lost*: known, and the last read to miss it was invoked after both the last read
  that saw it and the moment it was known: no read after that point sees it.
- *never-read*: neither (no read began after it was known, e.g. an add that timed
  out and never became visible).
- *duplicated*: it appears more than once within a single read.
- *unexpected* (distlab's addition; Jepsen's plain ``set`` checker has it): a read
  returned an element nobody had tried to add before the read completed (never, or
  only later: no node can know of an add before it is invoked).
- *missing from a final read* (distlab's addition; Maelstrom issue #44): a read
  marked final lacks an element known before it was invoked. Every node's final
  read must hold everything acknowledged: Jepsen's rule above only asks that the
  latest-invoked read see it, and final reads run at the same time on different
  nodes, so an element one node never got passed whenever some other node's
  final read happened to be invoked after that node's.
- *final read failed* (distlab's addition): a read marked final (on its invocation,
  as distlab's runner marks each node's final read) did not succeed. Jepsen ignores
  it; here that node's state at the end was never seen, so nothing says it converged:
  the verdict cannot be True.

An element may be added more than once (Maelstrom issue #95: a g-set must treat a
re-added element as present); it is known from its first ok add or first read.

Stable latency, as Jepsen measures it: from the known time (normally the add's
completion, not its invocation) to the invocation of the last read that missed it;
0 when no read invoked after the known time missed it. Quantiles 0, .5, .95, .99, 1
in milliseconds, picked as Jepsen does (sorted[min(n-1, floor(n*q))]).

``valid``: False on any lost, duplicated or unexpected element (or stale one when
``linearizable``) or one missing from a final read; else ``"unknown"`` when no element became stable (nothing to
judge) or a final read failed; else True.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import orjson

from distlab.checkers._values import value_key
from distlab.checkers.pairing import calls, invocation_of
from distlab.history import INVOKE, NEMESIS, OK

ADD_FS = frozenset({"add", "broadcast"})
QUANTILES = (0, 0.5, 0.95, 0.99, 1)
EXAMPLES = 32  # elements listed per category; counts are always complete
WORST_STALE = 8


def sorted_values(values: list[Any]) -> list[Any]:
    """Sorted when comparable (the usual ints), else in canonical-JSON order."""
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=lambda v: orjson.dumps(v, option=orjson.OPT_SORT_KEYS))


def quantiles(samples: list[float]) -> dict[str, float]:
    """Jepsen's frequency distribution over QUANTILES; keys are strings for JSON."""
    s = sorted(samples)
    n = len(s)
    return {str(q): s[min(n - 1, math.floor(n * q))] for q in QUANTILES}


class _Element:
    __slots__ = ("value", "add_index", "known", "first_seen", "last_present", "last_absent")

    def __init__(self, value: Any, add_index: int) -> None:
        self.value = value
        self.add_index = add_index
        self.known: dict[str, Any] | None = None  # completion record that made it known
        self.first_seen: int | None = None  # completion index of the first read seeing it
        self.last_present: dict[str, Any] | None = None  # latest-invoked read that saw it
        self.last_absent: dict[str, Any] | None = None  # latest-invoked read that missed it


def _is_final(rec: dict[str, Any]) -> bool:
    return bool(rec.get("final") or rec.get("final?"))


def _failed_final(inv: dict[str, Any], done: dict[str, Any] | None) -> dict[str, Any]:
    """A final read that did not succeed: that node's state was never seen at the end."""
    return {"node": inv.get("node"), "process": inv["process"], "index": inv["index"],
            "type": done["type"] if done else None, "error": done.get("error") if done else "no completion"}


def _ms(ns: int) -> float:
    return round(ns / 1e6, 6)


def check(history: list[dict[str, Any]], *, linearizable: bool = False) -> dict[str, Any]:
    elements: dict[Any, _Element] = {}
    order: list[_Element] = []  # in order of first add invocation
    invoked = invocation_of(history)  # completion position -> its invocation
    dups: dict[Any, list[Any]] = {}  # key -> [value, max multiplicity in one read]
    early: dict[Any, Any] = {}  # elements read before any add of them was invoked
    acknowledged = read_count = malformed = 0
    failed_finals: list[dict[str, Any]] = []
    final_missing: list[dict[str, Any]] = []  # final reads without elements known before them

    for pos, rec in enumerate(history):
        if rec["process"] == NEMESIS:
            continue
        f, type_ = rec["f"], rec["type"]
        if f in ADD_FS:
            key = value_key(rec["value"])
            if type_ == INVOKE:
                if key not in elements:
                    el = _Element(rec["value"], rec["index"])
                    elements[key] = el
                    order.append(el)
            elif type_ == OK:
                el = elements.get(key)
                if el is None:  # a completion whose invocation is not in this history
                    el = elements[key] = _Element(rec["value"], rec["index"])
                    order.append(el)
                acknowledged += 1
                if el.known is None:
                    el.known = rec
        elif f == "read":
            if type_ == INVOKE:
                continue
            inv = invoked.get(pos)
            if inv is not None and inv["f"] != "read":
                inv = None
            if type_ != OK and inv is not None and _is_final(inv):
                failed_finals.append(_failed_final(inv, rec))
            if type_ != OK or inv is None:
                continue
            if not isinstance(rec["value"], list):
                malformed += 1
                continue
            read_count += 1
            counts = Counter(value_key(v) for v in rec["value"])
            if len(counts) != len(rec["value"]):
                for v in rec["value"]:
                    k = value_key(v)
                    n = counts[k]
                    if n > 1 and (k not in dups or dups[k][1] < n):
                        dups[k] = [v, n]
            for v in rec["value"]:
                k = value_key(v)
                if k not in elements:
                    early.setdefault(k, v)
            inv_index = inv["index"]
            for key, el in elements.items():
                if key in counts:
                    if el.known is None:
                        el.known = rec
                    if el.first_seen is None:
                        el.first_seen = rec["index"]
                    lp = el.last_present
                    if lp is None or lp["index"] < inv_index:
                        el.last_present = inv
                else:
                    la = el.last_absent
                    if la is None or la["index"] < inv_index:
                        el.last_absent = inv
            if _is_final(inv):
                missing = [el.value for key, el in elements.items()
                           if key not in counts and el.known is not None and el.known["index"] < inv_index]
                if missing:
                    final_missing.append({"node": inv.get("node"), "process": inv["process"],
                                          "index": rec["index"], "missing_count": len(missing),
                                          "missing": sorted_values(missing)[:EXAMPLES]})

    failed_finals += [_failed_final(inv, None) for _, inv, _, done in calls(history)
                      if done is None and inv["f"] == "read" and _is_final(inv)]
    stable_lat: list[float] = []
    lost_lat: list[float] = []
    lost: list[Any] = []
    never_read: list[Any] = []
    stale: list[tuple[float, _Element]] = []
    for el in order:
        lp, la, known = el.last_present, el.last_absent, el.known
        lp_i = lp["index"] if lp is not None else -1
        la_i = la["index"] if la is not None else -1
        if lp is not None and la_i < lp_i:
            assert known is not None
            if la is not None and la_i > known["index"]:
                latency = _ms(la["time"] - known["time"])
                stale.append((latency, el))
            else:
                latency = 0.0
            stable_lat.append(latency)
        elif known is not None and la is not None and lp_i < la_i and known["index"] < la_i:
            lost.append(el.value)
            lost_lat.append(_ms(max(0, (lp["time"] if lp else known["time"]) - known["time"])))
        else:
            never_read.append(el.value)

    unexpected = list(early.values())
    worst = sorted(stale, key=lambda p: (-p[0], p[1].add_index))[:WORST_STALE]
    dup_list = sorted(dups.values(), key=lambda p: (-p[1], orjson.dumps(p[0])))

    if lost or dups or unexpected or malformed or final_missing or (linearizable and stale):
        valid: bool | str = False
    elif not stable_lat or failed_finals:
        valid = "unknown"
    else:
        valid = True
    result: dict[str, Any] = {
        "valid": valid,
        "linearizable": linearizable,
        "attempt_count": len(order),
        "acknowledged_count": acknowledged,
        "read_count": read_count,
        "stable_count": len(stable_lat),
        "lost_count": len(lost),
        "lost": sorted_values(lost)[:EXAMPLES],
        "never_read_count": len(never_read),
        "never_read": sorted_values(never_read)[:EXAMPLES],
        "stale_count": len(stale),
        "stale": sorted_values([el.value for _, el in stale])[:EXAMPLES],
        "worst_stale": [
            {
                "element": el.value,
                "stable_latency_ms": lat,
                "add_index": el.add_index,
                "known_index": el.known["index"] if el.known else None,
                "first_seen_index": el.first_seen,
                "last_absent_read_index": el.last_absent["index"] if el.last_absent else None,
            }
            for lat, el in worst
        ],
        "duplicated_count": len(dup_list),
        "duplicated": dup_list[:EXAMPLES],
        "unexpected_count": len(unexpected),
        "unexpected": sorted_values(unexpected)[:EXAMPLES],
        "malformed_read_count": malformed,
        "final_missing_count": len(final_missing),
        "final_missing": final_missing[:EXAMPLES],
        "final_read_failed_count": len(failed_finals),
        "final_read_failed": failed_finals[:EXAMPLES],
    }
    if stable_lat:
        result["stable_latencies"] = quantiles(stable_lat)
    if lost_lat:
        result["lost_latencies"] = quantiles(lost_lat)
    return result
