"""Counters (g-counter, pn-counter): every read must be a value the counter could hold.

History shape (Maelstrom's g-counter and pn-counter workloads):

- ``{"f": "add", "value": delta}`` (an int; >= 0 for a g-counter) invoke, then
  ok / fail / info. ``fail`` means it certainly did not happen; ``info`` or no
  completion at all means it may or may not have.
- ``{"f": "read", "value": None}`` invoke, then ok with ``value`` = the counter (int).
- Final reads (run after faults heal and the cluster converges) carry ``"final": true``
  (Jepsen's ``:final?``; ``"final?"`` is accepted too) on the invocation or the
  completion. If no record in the history is marked, the final reads are taken to be
  the ok reads invoked after every add had completed and after the last fault.

Three checks, from weakest to strongest:

1. *impossible* (always): a read must be the sum of some subset of the adds that
   were invoked before it completed and did not fail; no consistency model allows
   seeing an add before it is issued. Checked as the interval
   [sum of their negative deltas, sum of their positive deltas].
2. *final* (always; Maelstrom's checker): every final read must be the sum of all ok
   adds plus any subset of the indeterminate ones. The acceptable set is computed
   exactly as a union of integer ranges (Maelstrom's TreeRangeSet), falling back to
   its hull when it would need more than MAX_RANGES ranges (``final.exact`` false).
3. *stale* (only with ``linearizable=True``; Jepsen's ``checker/counter``): a read
   must also include every ok add that completed before the read was invoked, so it
   lies in [Dp + N, Dn + P], where Dp/Dn are the positive/negative parts of those
   completed adds and P/N those of all non-failed adds invoked before it completed.
   Intermediate reads of an eventually consistent counter (Maelstrom's g-counter on
   seq-kv) may be stale, which is why this is off by default.

``valid``: False on any error; ``"unknown"`` when there is no final read, or when a
read marked final on its invocation did not succeed (``final.failed``, distlab's
addition: that node's count at the end was never seen; Maelstrom ignores such a
read); else True.
"""

from __future__ import annotations

from typing import Any

from distlab.checkers.pairing import calls, invocation_of
from distlab.history import FAIL, INVOKE, NEMESIS, OK

MAX_RANGES = 4096
EXAMPLES = 20


def _is_int(v: Any) -> bool:
    return type(v) is int


def _marked_final(rec: dict[str, Any]) -> bool:
    return bool(rec.get("final") or rec.get("final?"))


def subset_sums(base: int, deltas: list[int], max_ranges: int = MAX_RANGES) -> tuple[list[list[int]], bool]:
    """base + any subset of deltas, as sorted disjoint [lo, hi] ranges; and whether exact.

    Each delta maps the set S to S | (S + delta); merging touching ranges keeps this
    small for the small deltas workloads use. Past max_ranges we return the hull.
    """
    ranges = [(base, base)]
    for i, d in enumerate(deltas):
        if d == 0:
            continue
        merged: list[tuple[int, int]] = []
        for lo, hi in sorted(ranges + [(lo + d, hi + d) for lo, hi in ranges]):
            if merged and lo <= merged[-1][1] + 1:
                if hi > merged[-1][1]:
                    merged[-1] = (merged[-1][0], hi)
            else:
                merged.append((lo, hi))
        ranges = merged
        if len(ranges) > max_ranges:
            rest = deltas[i + 1 :]
            lo = ranges[0][0] + sum(x for x in rest if x < 0)
            hi = ranges[-1][1] + sum(x for x in rest if x > 0)
            return [[lo, hi]], False
    return [[lo, hi] for lo, hi in ranges], True


def _contains(ranges: list[list[int]], v: int) -> bool:
    return any(lo <= v <= hi for lo, hi in ranges)


def _range_errors(rec: dict[str, Any], checks: list[tuple[str, list[int]]], error: Any) -> None:
    """Report the first [lo, hi] range the read's value falls outside of."""
    for kind, (lo, hi) in checks:
        if not lo <= rec["value"] <= hi:
            error(kind, rec, [lo, hi])
            return


def check(
    history: list[dict[str, Any]], *, grow_only: bool = False, linearizable: bool = False
) -> dict[str, Any]:
    invoked = invocation_of(history)  # completion position -> its invocation
    # The fate of each add invocation, so failed adds never count as possible.
    fate: dict[int, str] = {}
    marked = False
    last_add_done = last_fault = -1
    for pos, rec in enumerate(history):
        if rec["process"] == NEMESIS:
            last_fault = rec["index"]
            continue
        marked = marked or _marked_final(rec)
        if rec["type"] == INVOKE:
            if rec["f"] == "add":
                last_add_done = max(last_add_done, rec["index"])
        else:
            inv = invoked.get(pos)
            if inv is not None and inv["f"] == "add":
                fate[inv["index"]] = rec["type"]
                last_add_done = rec["index"]
    # Adds never completed are indeterminate: they stay in flight to the end.

    errors: list[dict[str, Any]] = []
    inv_pos = inv_neg = ok_pos = ok_neg = 0
    definite = 0
    maybe: list[int] = []
    counts = {"add": 0, "ok": 0, "info": 0, "fail": 0}
    read_snap: dict[int, tuple[int, int]] = {}  # read invocation's index -> ok sums then
    add_delta: dict[int, int] = {}  # add invocation's index -> its delta
    final_reads: list[tuple[dict[str, Any], list[tuple[str, list[int]]]]] = []
    final_failed: list[dict[str, Any]] = []
    reads = 0

    def error(kind: str, rec: dict[str, Any], allowed: Any, **extra: Any) -> None:
        errors.append({"kind": kind, "index": rec["index"], "process": rec["process"],
                       "value": rec["value"], "allowed": allowed, **extra})

    for pos, rec in enumerate(history):
        if rec["process"] == NEMESIS:
            continue
        f, type_ = rec["f"], rec["type"]
        if f == "add":
            if type_ == INVOKE:
                delta = rec["value"]
                counts["add"] += 1
                if not _is_int(delta):
                    return {"valid": "unknown", "error": f"add at index {rec['index']} has a "
                            f"non-integer delta {delta!r}"}
                if grow_only and delta < 0:
                    error("negative-delta", rec, [0, None])
                outcome = fate.get(rec["index"], "info")
                if outcome == FAIL:
                    counts["fail"] += 1
                    continue
                if delta > 0:
                    inv_pos += delta
                else:
                    inv_neg += delta
                if outcome == OK:
                    counts["ok"] += 1
                    definite += delta
                else:
                    counts["info"] += 1
                    maybe.append(delta)
                add_delta[rec["index"]] = delta
            elif type_ == OK:
                # the invocation's delta: a workload may record anything as the ok value
                add = invoked.get(pos)
                delta = add_delta.pop(add["index"], None) if add is not None else None
                if delta is not None:
                    if delta > 0:
                        ok_pos += delta
                    else:
                        ok_neg += delta
        elif f == "read":
            if type_ == INVOKE:
                read_snap[rec["index"]] = (ok_pos, ok_neg)
                continue
            inv = invoked.get(pos)
            if inv is None or inv["f"] != "read":
                continue
            dp, dn = read_snap.pop(inv["index"])
            if type_ != OK and _marked_final(inv):
                final_failed.append({"node": inv.get("node"), "index": rec["index"],
                                     "process": rec["process"], "error": rec.get("error")})
            if type_ != OK:
                continue
            reads += 1
            v = rec["value"]
            is_final = (
                _marked_final(inv) or _marked_final(rec)
                if marked
                else inv["index"] > last_add_done and inv["index"] > last_fault
            )
            if not _is_int(v):
                error("malformed", rec, None)
                continue
            checks = [("impossible", [inv_neg, inv_pos])]
            if linearizable:
                checks.append(("stale", [dp + inv_neg, dn + inv_pos]))
            if is_final:  # the final check comes first: it says the most
                final_reads.append((rec, checks))
            else:
                _range_errors(rec, checks, error)

    for _, inv, _, done in calls(history):  # final reads that never completed
        if done is None and inv["f"] == "read" and _marked_final(inv):
            final_failed.append({"node": inv.get("node"), "index": inv["index"],
                                 "process": inv["process"], "error": "no completion"})
    acceptable, exact = subset_sums(definite, maybe)
    for rec, checks in final_reads:
        if not _contains(acceptable, rec["value"]):
            error("final", rec, acceptable[:EXAMPLES])
        else:
            _range_errors(rec, checks, error)
    errors.sort(key=lambda e: e["index"])

    if errors:
        valid: bool | str = False
    else:
        valid = True if final_reads and not final_failed else "unknown"
    return {
        "valid": valid,
        "linearizable": linearizable,
        "add_count": counts["add"],
        "ok_add_count": counts["ok"],
        "indeterminate_add_count": counts["info"],
        "failed_add_count": counts["fail"],
        "reads": reads,
        "error_count": len(errors),
        "errors": errors[:EXAMPLES],
        "final": {
            "reads": len(final_reads),
            "marked": marked,
            "values": sorted({r["value"] for r, _ in final_reads})[:EXAMPLES],
            "definite_sum": definite,
            "acceptable": acceptable[:EXAMPLES],
            "acceptable_range_count": len(acceptable),
            "exact": exact,
            "failed": final_failed[:EXAMPLES],
            "failed_count": len(final_failed),
        },
    }


def check_g_counter(history: list[dict[str, Any]], *, linearizable: bool = False) -> dict[str, Any]:
    """A grow-only counter: as `check`, and a negative delta is itself an error."""
    return check(history, grow_only=True, linearizable=linearizable)


def check_pn_counter(history: list[dict[str, Any]], *, linearizable: bool = False) -> dict[str, Any]:
    return check(history, linearizable=linearizable)
