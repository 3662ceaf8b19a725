"""Sets with removes (OR-set, 2P-set): what each read may hold, decided from the history.

History shape (distlab's or-set and 2p-set workloads):

- ``{"f": "add" | "remove", "value": element}`` invoke, then ok / fail / info.
- ``{"f": "read", "value": None}`` invoke, then ok with ``value`` = a list of elements.
  Final reads (after healing and convergence) carry ``"final": true`` and ``"node"``.

A client process is bound to node ``n{process % node_count}`` (the runner's rule), so
the checker knows where each operation ran. Nothing else about the nodes is seen: a
remove on one node removes what that node had seen of an element, and which adds from
other nodes had reached it is unknown. So the checker only asks what every correct
run must show, whatever the network did:

OR-set (observed-remove, add wins over a concurrent remove):

- an acknowledged add must leave the element present at the end when every remove of
  that element that did not fail had completed before the add was invoked (no remove
  can have observed its tag); missing from a final read: *missing*.
- the element must be absent at the end when every add of it that did not fail was
  acknowledged and followed, on its own node, by an acknowledged remove invoked after
  the add completed (that remove saw the add's tag): present anyway: *resurrected*.
- the same two rules on a read during the run, restricted to what its own node must
  have seen: its own acknowledged add, with every remove anywhere completed before it;
  or all adds on that node, each followed there by a remove before the read.

2P-set (two-phase: a removed element never comes back):

- absent at the end once any remove of it was acknowledged; absent from reads on a
  node after that node acknowledged a remove of it (*resurrected*);
- present at the end when an add was acknowledged and no remove was attempted
  (or all failed); present on a node's reads after that node acknowledged an add, if
  no remove was attempted before the read completed (*missing*).

Both, from the reads themselves (a read holding an element proves an add of it took
effect on that node's replica, which only grows):

- a read on a node that lacks an element an earlier read there held (completed before
  it was invoked), when every remove of it invoked before the later read completed ran
  on that node and completed before the earlier read (so none can have taken what it
  saw): *went back*; in a 2P-set, a read there invoked after one that lacked it again
  after holding it holds it again: *resurrected*;
- an element a read held, under the same condition on the removes up to a final read
  invoked after it, is missing from that final read: *missing*.

Always: every final read succeeds and all of them hold the same set (*diverged*);
no read holds an element before an add of it that did not fail was invoked
(*unexpected*), or one element twice (*duplicated*). Everything else (an add and a
remove at the same time on different nodes, an operation that timed out) may end
either way and is not judged.

``valid``: False on any anomaly; ``"unknown"`` when a final read failed or there was
none (nothing says the nodes converged); else True.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from distlab.checkers._values import value_key
from distlab.checkers.pairing import calls
from distlab.history import FAIL, NEMESIS, OK

INF = math.inf
EXAMPLES = 16
ANOMALIES = ("diverged", "missing", "resurrected", "unexpected_elements", "duplicated_elements",
             "malformed_reads", "went_back", "final_read_failed")


@dataclass(slots=True)
class _Call:
    kind: str  # add or remove
    node: str
    inv: int  # invocation index
    done: float  # completion index; INF for info or no completion
    ok: bool
    time: float  # seconds at invocation
    done_time: float


@dataclass(slots=True)
class _Element:
    value: Any
    adds: list[_Call] = field(default_factory=list)  # attempts that did not fail
    removes: list[_Call] = field(default_factory=list)


def _secs(rec: dict[str, Any]) -> float:
    return round(rec["time"] / 1e9, 3)


def _node_of(inv: dict[str, Any], node_count: int) -> str:
    if inv.get("node"):
        return str(inv["node"])
    proc = inv["process"]
    return f"n{proc % node_count}" if isinstance(proc, int) and node_count > 0 else str(proc)


def _covered(add: _Call, removes: list[_Call], before: float = INF) -> _Call | None:
    """An acknowledged remove on the add's own node invoked after the add completed
    (and, for a read, completed before `before`): it saw the add's tag."""
    for r in removes:
        if r.ok and r.node == add.node and r.inv > add.done and r.done < before:
            return r
    return None


def _or_must_present(el: _Element, node: str | None, read_inv: float, read_done: float) -> _Call | None:
    """An acknowledged add (on `node` and done before the read, when judging a read
    during the run) that no remove attempted before the read completed can have seen."""
    removes = [r for r in el.removes if r.inv < read_done]
    for a in el.adds:
        if a.ok and a.done < read_inv and (node is None or a.node == node) \
                and all(r.done < a.inv for r in removes):
            return a
    return None


def _or_must_absent(el: _Element, node: str | None, read_inv: float, read_done: float) -> _Call | None:
    """The remove that proves the element gone, when every add attempted before the read
    completed was acknowledged and removed on its own node (on `node` itself, and before
    the read, when judging a read during the run); None when it may be present."""
    adds = [a for a in el.adds if a.inv < read_done]
    if not adds:
        return None
    last = None
    for a in adds:
        if not a.ok or (node is not None and a.node != node):
            return None
        r = _covered(a, el.removes, read_inv if node is not None else INF)
        if r is None:
            return None
        if last is None or r.inv > last.inv:
            last = r
    return last


def _two_phase_must_absent(el: _Element, node: str | None, read_inv: float) -> _Call | None:
    for r in el.removes:
        if r.ok and r.done < read_inv and (node is None or r.node == node):
            return r
    return None


def _two_phase_must_present(el: _Element, node: str | None, read_inv: float, read_done: float) -> _Call | None:
    if any(r.inv < read_done for r in el.removes):
        return None
    for a in el.adds:
        if a.ok and a.done < read_inv and (node is None or a.node == node):
            return a
    return None


def _sorted(values: list[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=repr)


def check(history: list[dict[str, Any]], *, node_count: int = 0, two_phase: bool = False) -> dict[str, Any]:
    elements: dict[Any, _Element] = {}
    attempted: set[Any] = set()
    reads: list[tuple[dict[str, Any], dict[str, Any], list[Any]]] = []
    failed_finals: list[dict[str, Any]] = []
    malformed: list[dict[str, Any]] = []
    for _, inv, _, done in calls(history):
        if inv["process"] == NEMESIS:
            continue
        f = inv["f"]
        final = bool(inv.get("final") or inv.get("final?"))
        if f == "read":
            if done is None or done["type"] != OK:
                if final:
                    failed_finals.append({"node": _node_of(inv, node_count), "time": _secs(inv),
                                          "error": done.get("error") if done else "no completion"})
                continue
            if not isinstance(done["value"], list):
                malformed.append({"node": _node_of(inv, node_count), "time": _secs(done), "value": done["value"]})
                continue
            reads.append((inv, done, done["value"]))
        elif f in ("add", "remove"):
            key = value_key(inv["value"])
            if f == "add":
                attempted.add(key)
            if done is not None and done["type"] == FAIL:
                continue
            el = elements.get(key)
            if el is None:
                el = elements[key] = _Element(inv["value"])
            ok = done is not None and done["type"] == OK
            call = _Call(f, _node_of(inv, node_count), inv["index"], done["index"] if ok else INF, ok,
                         _secs(inv), _secs(done) if done is not None else INF)
            (el.adds if f == "add" else el.removes).append(call)

    holders: dict[Any, list[tuple[int, str, int, float]]] = {}  # element -> reads holding it: (done, node, inv, time)
    for inv, done, value in reads:
        for v in value:
            holders.setdefault(value_key(v), []).append((done["index"], _node_of(inv, node_count), inv["index"],
                                                         _secs(done)))
    missing: list[dict[str, Any]] = []
    resurrected: list[dict[str, Any]] = []
    unexpected: dict[Any, Any] = {}
    duplicated: list[dict[str, Any]] = []
    finals: list[tuple[str, float, frozenset[Any], list[Any]]] = []
    for inv, done, value in reads:
        final = bool(inv.get("final") or inv.get("final?"))
        node = _node_of(inv, node_count)
        counts = Counter(value_key(v) for v in value)
        early: set[Any] = set()  # held before any add of it could have happened
        for v in value:
            k = value_key(v)
            if counts[k] > 1 and len(duplicated) < EXAMPLES and not any(d["element"] == v for d in duplicated):
                duplicated.append({"element": v, "times": counts[k], "node": node, "time": _secs(done)})
            el = elements.get(k)
            if el is None or not any(a.inv < done["index"] for a in el.adds):
                # no add of it that did not fail was invoked before this read completed
                early.add(k)
                unexpected.setdefault(k, {"element": v, "node": node, "time": _secs(done),
                                          "attempted": k in attempted})
        if final:
            finals.append((node, _secs(done), frozenset(counts), value))
        where = None if final else node  # a final read: the cluster has converged
        ri, rd = inv["index"], done["index"]
        for key, el in elements.items():
            present = key in counts
            if present and key in early:
                continue
            if present:
                if two_phase:
                    why = _two_phase_must_absent(el, where, ri)
                else:
                    why = _or_must_absent(el, where, ri, rd)
                if why is not None:
                    resurrected.append({"element": el.value, "node": node, "final": final, "time": _secs(done),
                                        "removed_on": why.node, "removed_at": why.time})
            else:
                if two_phase:
                    why = _two_phase_must_present(el, where, ri, rd)
                else:
                    why = _or_must_present(el, where, ri, rd)
                if why is not None:
                    missing.append({"element": el.value, "node": node, "final": final, "time": _secs(done),
                                    "added_on": why.node, "added_at": why.time})
                elif final:
                    # a read showed it alive on a node after every remove that could take it
                    held = next((h for h in holders.get(key, ()) if h[0] < ri and _survives(el, h[1], h[2], rd)),
                                None)
                    if held is not None:
                        missing.append({"element": el.value, "node": node, "final": final, "time": _secs(done),
                                        "seen_on": held[1], "seen_at": held[3],
                                        "removes": sum(r.inv < rd for r in el.removes)})
    went_back = _went_back(reads, elements, node_count, two_phase, resurrected)
    diverged: list[dict[str, Any]] = []
    if finals:
        first = finals[0]
        for other in finals[1:]:
            if other[2] != first[2]:
                diverged.append({"nodes": [first[0], other[0]],
                                 "only_in_first": _sorted([v for v in first[3] if value_key(v) not in other[2]]),
                                 "only_in_second": _sorted([v for v in other[3] if value_key(v) not in first[2]])})
                break

    anomalies = {
        "diverged": diverged,
        "missing": missing[:EXAMPLES],
        "resurrected": resurrected[:EXAMPLES],
        "unexpected_elements": list(unexpected.values())[:EXAMPLES],
        "duplicated_elements": duplicated,
        "malformed_reads": malformed[:EXAMPLES],
        "went_back": went_back[:EXAMPLES],
    }
    bad = any(anomalies.values())
    valid: bool | str = False if bad else ("unknown" if failed_finals or not finals else True)
    result: dict[str, Any] = {
        "valid": valid,
        "two_phase": two_phase,
        "element_count": len(attempted),
        "read_count": len(reads),
        "final_read_count": len(finals),
        "missing_count": len(missing),
        "resurrected_count": len(resurrected),
        **anomalies,
        "final_read_failed": failed_finals[:EXAMPLES],
    }
    explanation = _explain(result, two_phase)
    if explanation:
        result["explanation"] = explanation
    return result


def _went_back(reads: list[tuple[dict[str, Any], dict[str, Any], list[Any]]], elements: dict[Any, _Element],
               node_count: int, two_phase: bool, resurrected: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One node's replica only grows: an element a read there held (completed before a later
    read there was invoked) cannot be missing from the later read unless a remove of it had
    been invoked by the time that read completed. In a 2P-set, once it went missing from a
    node (a remove reached it), a read there invoked afterwards must not hold it again
    (added to `resurrected`)."""
    by_node: dict[str, list[tuple[int, int, set[Any], dict[str, Any]]]] = {}
    for inv, done, value in reads:
        by_node.setdefault(_node_of(inv, node_count), []).append(
            (inv["index"], done["index"], {value_key(v) for v in value}, done))
    out: list[dict[str, Any]] = []
    for node, rows in by_node.items():
        rows.sort(key=lambda r: r[1])
        held: dict[Any, tuple[int, dict[str, Any]]] = {}  # element -> the latest-invoked earlier read here holding it
        gone: dict[Any, dict[str, Any]] = {}  # element -> the first read here that lacked it after holding it
        ptr = 0
        for ri, rd, keys, done in rows:
            while ptr < len(rows) and rows[ptr][1] < ri:
                for k in rows[ptr][2]:
                    if k not in held or rows[ptr][0] > held[k][0]:
                        held[k] = (rows[ptr][0], rows[ptr][3])
                ptr += 1
            if two_phase:
                for k in keys:
                    if k in gone and gone[k]["index"] < ri:
                        resurrected.append({"element": done["value"][[value_key(v) for v in done["value"]].index(k)],
                                            "node": node, "final": False, "time": _secs(done),
                                            "vanished_at": _secs(gone[k])})
            for k, (earlier_inv, earlier) in held.items():
                if k in keys:
                    continue
                gone.setdefault(k, done)
                el = elements.get(k)
                if el is not None and _survives(el, node, earlier_inv, rd):
                    out.append({"element": el.value, "node": node, "time": _secs(done), "held_at": _secs(earlier),
                                "removes": sum(r.inv < rd for r in el.removes)})
    return out


def _survives(el: _Element, node: str, read_inv: int, upto: float) -> bool:
    """Whether what a read on `node` invoked at `read_inv` held of this element can still be
    there at `upto`: every remove of it invoked before `upto` ran on that node and completed
    before the read (the node had applied them, so the tag the read saw escaped them)."""
    return all(r.node == node and r.done < read_inv for r in el.removes if r.inv < upto)


def _where(case: dict[str, Any]) -> str:
    return f"{case['node']}'s final read" if case["final"] else f"a read on {case['node']} at t={case['time']} s"


def _explain(r: dict[str, Any], two_phase: bool) -> str | None:
    """Each anomaly in one learner-facing sentence, the most telling first."""
    lines: list[str] = []
    for c in r["resurrected"][:1]:
        if "vanished_at" in c:
            lines.append(f"element {c['element']!r} had gone from {c['node']}'s reads by t={c['vanished_at']} s (a "
                         f"remove had reached it), yet a read on {c['node']} at t={c['time']} s holds it again: a "
                         "2P-set element once removed never comes back (resurrected)")
        elif two_phase:
            lines.append(f"element {c['element']!r} was removed on {c['removed_on']} at t={c['removed_at']} s, "
                         f"yet {_where(c)} holds it: a 2P-set element once removed never comes back (resurrected)")
        else:
            lines.append(f"element {c['element']!r} was removed on {c['removed_on']} at t={c['removed_at']} s after "
                         f"every add of it had been seen there, yet {_where(c)} holds it (resurrected)")
    for c in r["missing"][:1]:
        after = "" if two_phase else " after every remove of it had completed"
        if "seen_on" in c:
            since = ("no remove of it was ever invoked" if not c["removes"] else
                     f"every remove of it had been applied on {c['seen_on']} before that read")
            lines.append(f"element {c['element']!r} was in a read on {c['seen_on']} at t={c['seen_at']} s and "
                         f"{since}, yet {_where(c)} lacks it (missing)")
        else:
            lines.append(f"element {c['element']!r} was added on {c['added_on']} at t={c['added_at']} s{after}, "
                         f"yet {_where(c)} lacks it (missing)")
    for c in r["went_back"][:1]:
        since = ("no remove of it had been invoked" if not c["removes"] else
                 f"every remove of it had been applied on {c['node']} before the first read")
        lines.append(f"element {c['element']!r} was in a read on {c['node']} at t={c['held_at']} s, yet a later read "
                     f"there at t={c['time']} s lacks it, and {since}: a replica never loses an element unless a "
                     "remove takes it (went back)")
    for d in r["diverged"][:1]:
        a, b = d["nodes"]
        diff = (f"{a} has {_sorted(d['only_in_first'])[:5]!r}" if d["only_in_first"]
                else f"{b} has {_sorted(d['only_in_second'])[:5]!r}")
        lines.append(f"after healing and converging, the final reads of {a} and {b} differ ({diff} "
                     "that the other lacks): the replicas diverged")
    for c in r["unexpected_elements"][:1]:
        why = "before any add of it that did not fail" if c["attempted"] else "which nobody added"
        lines.append(f"a read on {c['node']} at t={c['time']} s returned {c['element']!r}, {why} (unexpected)")
    for c in r["duplicated_elements"][:1]:
        lines.append(f"a read on {c['node']} returned element {c['element']!r} {c['times']} times (duplicated)")
    for c in r["malformed_reads"][:1]:
        lines.append(f"a read on {c['node']} returned {c['value']!r}, which is not a list of elements")
    if not lines and r["final_read_failed"]:
        c = r["final_read_failed"][0]
        lines.append(f"the final read on {c['node']} did not succeed ({c['error']}): nothing says the nodes converged")
    return "\n".join(lines) or None
