"""Vector clocks, judged in both directions from the `vector-clock` workload's history.

A vector clock promises: a happened before b if and only if vc(a) < vc(b). The
history holds happened-before exactly, because nodes learn of each other only
through what clients carry: each event records `after`, the events whose clocks
its request's `seen` merged, and the node that served it. So:

- *carried* (a -> b, so vc(a) < vc(b)): `seen` <= vc(b) entry by entry, and b's own
  node's entry is above `seen`'s (the event counted itself);
- *node order*: one node's events are totally ordered, by their own entries, which
  must be distinct, agree with real time (an event completed before another was
  invoked has the smaller own entry), and rise with the whole clock;
- *concurrent* (vc(a) < vc(b) only if a -> b): for each event b, `known` is what its
  causal past could have told it: the max of its predecessors' `known` (the events
  in `after`, and the previous event of its node), with its own entry its own. An
  entry of vc(b) above `known` claims events b never heard of: some event of that
  node is then ordered before b though the two are concurrent. Events whose reply
  was lost may still have run on b's node, so their `seen` counts as heard of.

For `compare{a, b}` the answer must be the true order of the two clocks (missing
entries are zero).
"""

from __future__ import annotations

from typing import Any

from distlab.checkers.lamport import t
from distlab.checkers.pairing import calls
from distlab.history import INFO, OK

ANOMALIES = ("malformed", "not_after_seen", "node_order", "concurrent_ordered", "wrong_compare")
EXAMPLES = 10
ORDERS = ("before", "after", "equal", "concurrent")


def well_formed(vc: Any) -> bool:
    return isinstance(vc, dict) and all(isinstance(k, str) and type(v) is int and v >= 0 for k, v in vc.items())


def le(a: dict[str, int], b: dict[str, int]) -> bool:
    return all(v <= b.get(k, 0) for k, v in a.items())


def order(a: dict[str, int], b: dict[str, int]) -> str:
    """How a stands to b: before, after, equal or concurrent (missing entries are 0)."""
    ab, ba = le(a, b), le(b, a)
    return "equal" if ab and ba else "before" if ab else "after" if ba else "concurrent"


def show(vc: Any) -> str:
    if not isinstance(vc, dict):
        return repr(vc)
    return "{" + ", ".join(f"{k}: {v}" for k, v in sorted(vc.items()) if v) + "}"


class Event:
    __slots__ = ("id", "node", "seen", "after", "vc", "inv", "done")

    def __init__(self, inv: dict[str, Any], done: dict[str, Any]) -> None:
        value = done["value"]
        self.id, self.node = value.get("id"), value.get("node")
        self.seen, self.after, self.vc = value.get("seen") or {}, value.get("after") or [], value.get("vc")
        self.inv, self.done = inv, done

    def own(self) -> int:
        return self.vc.get(self.node, 0)

    def where(self) -> str:
        return f"{self.node}'s event {self.id} (client process {self.inv['process']}, {t(self.done['time'])})"


def check(history: list[dict[str, Any]]) -> dict[str, Any]:
    events: list[Event] = []
    lost: list[dict[str, Any]] = []  # events whose outcome is unknown: they may have run
    compares: list[dict[str, Any]] = []
    bad: list[Event] = []
    positions: list[tuple[int, str, Event]] = []
    for inv_pos, inv, done_pos, done in calls(history):
        if inv.get("f") == "compare":
            if done is not None and done["type"] == OK:
                compares.append(done)
            continue
        if inv.get("f") != "event":
            continue
        if done is None or done["type"] == INFO:
            lost.append(inv)
            continue
        if done["type"] != OK or not isinstance(done.get("value"), dict):
            continue
        e = Event(inv, done)
        if not well_formed(e.vc):
            bad.append(e)
            continue
        events.append(e)
        positions += [(inv_pos, "inv", e), (done_pos, "done", e)]

    sentences: list[str] = []
    found: dict[str, list[dict[str, Any]]] = {k: [] for k in ANOMALIES}

    def note(kind: str, case: dict[str, Any], sentence: str) -> None:
        if not found[kind]:
            sentences.append(sentence)
        found[kind].append(case)

    for e in bad:
        note("malformed", {"index": e.done["index"], "vc": e.vc},
             f"{e.where()} returned vc={e.vc!r}, which is not a map from node ids to counts")

    by_id = {e.id: e for e in events}
    for e in events:
        if not le(e.seen, e.vc):
            missed = sorted(k for k, v in e.seen.items() if v > e.vc.get(k, 0))
            src = next((by_id[i] for i in e.after if i in by_id and by_id[i].vc.get(missed[0], 0) > e.vc.get(missed[0], 0)),
                       None)
            came = f" (from {src.where()})" if src else ""
            note("not_after_seen", {"index": e.done["index"], "seen": e.seen, "vc": e.vc},
                 f"{e.where()} returned vc {show(e.vc)} for a request that carried seen {show(e.seen)}{came}: "
                 f"its {missed[0]} entry went back, but a vector clock must include everything that happened before "
                 "the event (merge entry by entry with max)")
        elif not e.own() > e.seen.get(e.node, 0):
            note("not_after_seen", {"index": e.done["index"], "seen": e.seen, "vc": e.vc},
                 f"{e.where()} returned vc {show(e.vc)} for a request that carried seen {show(e.seen)}: its own "
                 f"entry {e.node} did not count the new event (add one to your own entry on every event)")

    # node order: own entries distinct, increasing with real time and with the whole clock
    per_node: dict[Any, list[Event]] = {}
    for e in events:
        per_node.setdefault(e.node, []).append(e)
    prev_of: dict[int, Event] = {}
    for node, evs in per_node.items():
        evs.sort(key=lambda e: e.own())
        for a, b in zip(evs, evs[1:], strict=False):
            if a.own() == b.own():
                note("node_order", {"node": node, "indexes": [a.done["index"], b.done["index"]], "own": a.own()},
                     f"{node} gave two events the same own entry {a.own()} ({a.where()} and {b.where()}): "
                     "each event on a node must add one to the node's own entry")
            elif not le(a.vc, b.vc):
                note("node_order", {"node": node, "indexes": [a.done["index"], b.done["index"]]},
                     f"{b.where()} returned vc {show(b.vc)}, which lacks part of {show(a.vc)} that {node} had "
                     f"returned for its earlier event {a.id}: a node's clock must only grow (each event knows "
                     "everything the node's earlier events knew)")
            prev_of[id(b)] = a
    latest: dict[Any, Event] = {}
    for _, kind, e in sorted(positions, key=lambda p: p[0]):
        prev = latest.get(e.node)
        if kind == "inv":
            if prev is not None and not prev.own() < e.own():
                note("node_order", {"node": e.node, "indexes": [prev.done["index"], e.done["index"]]},
                     f"{e.where()} has own entry {e.own()}, but {e.node} had already returned own entry "
                     f"{prev.own()} for event {prev.id} before this request was sent: a node's own entry must rise "
                     "with every event")
        elif prev is None or e.own() > prev.own():
            latest[e.node] = e

    # concurrent events ordered: an entry above what the causal past could have told
    if not found["not_after_seen"] and not found["node_order"]:
        heard_lost: dict[Any, list[dict[str, Any]]] = {}
        for inv in lost:
            v = inv.get("value") or {}
            if isinstance(v.get("seen"), dict):
                heard_lost.setdefault(v.get("node"), []).append(inv)
        known = _known(events, by_id, prev_of, heard_lost)
        for e in events:
            k = known[id(e)]
            for m, v in sorted(e.vc.items()):
                if m != e.node and v > k.get(m, 0):
                    witness = next((a for a in sorted(per_node.get(m, []), key=lambda a: a.own())
                                    if k.get(m, 0) < a.own() <= v), None)
                    about = (f": {witness.where()}, vc {show(witness.vc)}, now looks as if it happened before it, "
                             "though the two are concurrent" if witness else "")
                    note("concurrent_ordered", {"index": e.done["index"], "node": m, "vc": e.vc, "known": k},
                         f"{e.where()} returned vc {show(e.vc)}, whose {m} entry is {v}, but only "
                         f"{k.get(m, 0)} of {m}'s events happened before it{about}; a vector clock counts only the "
                         "events its node has heard of")
                    break

    for done in compares:
        v = done["value"]
        a, b, said = v.get("a"), v.get("b"), v.get("order")
        if not (well_formed(a) and well_formed(b)):
            continue
        truth = order(a, b)
        if said != truth:
            note("wrong_compare", {"index": done["index"], "a": a, "b": b, "order": said, "truth": truth},
                 f"compare of a={show(a)} and b={show(b)} answered {said!r} at {t(done['time'])}, but a is "
                 + (f"{truth} b" if truth != "concurrent" else "concurrent with b (each has an entry above the other's)")
                 + ("; equal counts in every entry mean the same clock" if truth == "equal" else ""))

    out: dict[str, Any] = {"valid": not sentences, "event_count": len(events) + len(bad),
                           "compare_count": len(compares)}
    for kind in ANOMALIES:
        out[f"{kind}_count"] = len(found[kind])
        out[kind] = found[kind][:EXAMPLES]
    if sentences:
        out["explanation"] = "\n".join(sentences)
    elif not events:
        out["valid"] = "unknown"
        out["explanation"] = "no event request succeeded, so nothing shows the vector clocks work"
    return out


def _known(events: list[Event], by_id: dict[Any, Event], prev_of: dict[int, Event],
           heard_lost: dict[Any, list[dict[str, Any]]]) -> dict[int, dict[str, int]]:
    """Each event's causal knowledge, by a depth-first walk over its predecessors."""
    known: dict[int, dict[str, int]] = {}
    on_path: set[int] = set()
    for root in events:
        stack: list[tuple[Event, bool]] = [(root, False)]
        while stack:
            e, expanded = stack.pop()
            if id(e) in known:
                continue
            preds = [by_id[i] for i in e.after if i in by_id]
            if id(e) in prev_of:
                preds.append(prev_of[id(e)])
            if not expanded:
                on_path.add(id(e))
                stack.append((e, True))
                stack += [(p, False) for p in preds if id(p) not in known and id(p) not in on_path]
                continue
            on_path.discard(id(e))
            k = dict(e.seen)
            for p in preds:
                for m, v in known.get(id(p), p.vc).items():
                    if v > k.get(m, 0):
                        k[m] = v
            for inv in heard_lost.get(e.node, ()):
                if inv["index"] < e.done["index"]:
                    for m, v in inv["value"]["seen"].items():
                        if type(v) is int and v > k.get(m, 0):
                            k[m] = v
            k[e.node] = e.own()
            known[id(e)] = k
    return known
