"""A last-writer-wins register: which value may each read return, decided from the history.

History shape (distlab's lww-register workload): ``{"f": "write", "value": v}`` with
v unique per write, then ok / fail / info; ``{"f": "read"}`` then ok with ``value`` =
the value held (None before any write). Final reads (after healing and convergence)
carry ``"final": true`` and ``"node"``; a client process runs on node
``n{process % node_count}``.

An LWW register keeps the write with the highest timestamp. The checker never sees a
timestamp, but it can see what a node had *seen* before it stamped a write: its own
acknowledged writes, and every value its reads returned. A clock that never runs
behind what its node has seen (a Lamport clock, a hybrid logical clock: take
max(local, seen) + 1) stamps such a write higher than everything seen. So:

- write b on node N *follows* write a when a was seen on N before b was invoked (N
  has seen its own acknowledged writes, the values its reads returned, and its own
  writes that a read anywhere returned), or
  a read on a node that had seen a returned b (a replica's register only moves to
  higher timestamps, so b's is higher), or b follows a write that follows a (the
  order is transitive). Only writes known to have
  happened (acknowledged, or read by someone) are followed.
- *lost write*: a final read returns a value that some write follows: that write's
  timestamp is higher, so it must win. (A final read of nothing while a write was
  acknowledged is lost too.)
- *went back*: a read on node N returns a value followed by something N had already
  seen: a replica's register only moves to higher timestamps.
- *diverged*: the final reads, after healing and converging, disagree.
- *unexpected*: a read returns a value no write that did not fail had been invoked
  with before the read completed.

Writes no one can order (concurrent ones on different nodes, unseen by each other)
may end either way: that is the register's choice (its tie-break), not a bug.

``valid``: False on any anomaly; ``"unknown"`` when a final read failed or there
was none; else True.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from distlab.checkers._values import value_key
from distlab.checkers.pairing import calls
from distlab.history import FAIL, NEMESIS, OK

EXAMPLES = 16
ANOMALIES = ("lost_writes", "went_back", "diverged", "unexpected_values", "final_read_failed")
NONE = "__none__"


@dataclass(slots=True)
class _Write:
    value: Any
    node: str
    inv: int
    ok: bool
    time: float
    seen: bool = False  # some read returned it
    # keys of the writes it directly follows -> why: None (its node had seen that write
    # before it was written) or (node, read completion) (a read there returned it after)
    preds: dict[Any, Any] = field(default_factory=dict)
    bit: int = 0  # its bit in before_bits
    before_bits: int = 0  # the writes it follows, transitively, as bits


def _secs(rec: dict[str, Any]) -> float:
    return round(rec["time"] / 1e9, 3)


def _node_of(inv: dict[str, Any], node_count: int) -> str:
    if inv.get("node"):
        return str(inv["node"])
    proc = inv["process"]
    return f"n{proc % node_count}" if isinstance(proc, int) and node_count > 0 else str(proc)


def check(history: list[dict[str, Any]], *, node_count: int = 0) -> dict[str, Any]:
    writes: dict[Any, _Write] = {}
    reads: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    failed_finals: list[dict[str, Any]] = []
    # knowledge events per node: (index from which it is known, write key)
    known: dict[str, list[tuple[int, Any]]] = {}
    for _, inv, _, done in calls(history):
        if inv["process"] == NEMESIS:
            continue
        node = _node_of(inv, node_count)
        final = bool(inv.get("final") or inv.get("final?"))
        if inv["f"] == "write":
            if done is not None and done["type"] == FAIL:
                continue
            ok = done is not None and done["type"] == OK
            key = value_key(inv["value"])
            writes[key] = _Write(inv["value"], node, inv["index"], ok, _secs(inv))
            if ok:
                known.setdefault(node, []).append((done["index"], key))
        elif inv["f"] == "read":
            if done is None or done["type"] != OK:
                if final:
                    failed_finals.append({"node": node, "error": done.get("error") if done else "no completion"})
                continue
            reads.append((node, inv, done))

    unexpected: list[dict[str, Any]] = []
    good_reads = []
    for node, inv, done in reads:
        v = done["value"]
        if v is None:
            good_reads.append((node, inv, done, None))
            continue
        w = writes.get(value_key(v))
        if w is None or w.inv > done["index"]:
            unexpected.append({"value": v, "node": node, "time": _secs(done)})
            continue
        w.seen = True
        known.setdefault(node, []).append((done["index"], value_key(v)))
        if w.node != node:  # read elsewhere, so it had taken effect on its own node by then
            known.setdefault(w.node, []).append((done["index"], value_key(v)))
        good_reads.append((node, inv, done, value_key(v)))
    for events in known.values():
        events.sort(key=lambda e: e[0])

    def seen_on(node: str, before: int) -> list[Any]:
        return [k for at, k in known.get(node, ()) if at < before]

    # the "follows" order: b follows a when b's node had seen a before b was invoked (its
    # clock stamps b higher), or when a read on a node that had seen a returned b (a
    # replica's register only moves to higher stamps); and transitively. Read edges may
    # point back in invocation order (a cycle is a contradiction), so close to a fixpoint.
    effective = sorted((w for w in writes.values() if w.ok or w.seen), key=lambda w: w.inv)
    for i, w in enumerate(effective):
        w.bit = 1 << i
        for k in seen_on(w.node, w.inv):
            if k != value_key(w.value):
                w.preds.setdefault(k, None)
    for node, inv, done, key in good_reads:
        if key is None or inv.get("final") or inv.get("final?"):
            continue  # (the final reads are judged by the final rule)
        for k in seen_on(node, inv["index"]):
            if k != key:
                writes[key].preds.setdefault(k, (node, done))
    changed = True
    while changed:
        changed = False
        for w in effective:
            bits = w.before_bits
            for k in w.preds:
                bits |= writes[k].bit | writes[k].before_bits
            if bits != w.before_bits:
                w.before_bits, changed = bits, True

    def follower(key: Any, among: list[_Write]) -> _Write | None:
        """A write (of `among`) that follows `key`'s write."""
        a = writes[key]
        found = [b for b in among if b.before_bits & a.bit]
        return next((b for b in found if b is not a), found[0] if found else None)

    lost: list[dict[str, Any]] = []
    went_back: list[dict[str, Any]] = []
    finals: list[tuple[str, Any, Any]] = []
    for node, inv, done, key in good_reads:
        final = bool(inv.get("final") or inv.get("final?"))
        if final:
            finals.append((node, key, done["value"]))
            b = effective[-1] if key is None and effective else (follower(key, effective) if key is not None else None)
            if b is not None:
                lost.append(_case(node, done, key, writes, b, final=True))
            continue
        seen = [writes[k] for k in seen_on(node, inv["index"])]
        if key is None:
            b = seen[-1] if seen else None
        else:
            b = follower(key, seen)
        if b is not None:
            went_back.append(_case(node, done, key, writes, b, final=False))

    diverged: list[dict[str, Any]] = []
    for other in finals[1:]:
        if other[1] != finals[0][1]:
            diverged.append({"nodes": [finals[0][0], other[0]], "values": [finals[0][2], other[2]]})
            break
    anomalies = {"lost_writes": lost[:EXAMPLES], "went_back": went_back[:EXAMPLES], "diverged": diverged,
                 "unexpected_values": unexpected[:EXAMPLES]}
    bad = any(anomalies.values())
    result: dict[str, Any] = {
        "valid": False if bad else ("unknown" if failed_finals or not finals else True),
        "write_count": len(writes),
        "read_count": len(reads),
        "final_read_count": len(finals),
        "lost_write_count": len(lost),
        "went_back_count": len(went_back),
        **anomalies,
        "final_read_failed": failed_finals[:EXAMPLES],
    }
    explanation = _explain(result)
    if explanation:
        result["explanation"] = explanation
    return result


def _case(node: str, done: dict[str, Any], key: Any, writes: dict[Any, _Write], b: _Write, final: bool) -> dict[str, Any]:
    a = writes.get(key) if key is not None else None
    # the direct predecessor of b through which it follows a, and why
    via_key = key if key in b.preds else next(
        (k for k in b.preds if a is not None and writes[k].before_bits & a.bit), None)
    via = writes[via_key] if via_key is not None else None
    why = b.preds.get(via_key) if via_key is not None else None
    read = {"read_on": why[0], "read_at": _secs(why[1])} if why is not None else {}
    return {"node": node, "time": _secs(done), "value": done["value"],
            "written_on": a.node if a else None, "written_at": a.time if a else None,
            "later": b.value, "later_on": b.node, "later_at": b.time,
            "after_seeing": via.value if via is not None else None, "final": final, **read}


def _follows(c: dict[str, Any]) -> str:
    """Why the later write outranks the value read, in words."""
    seen = "it" if c["after_seeing"] == c["value"] else f"{c['after_seeing']!r}, which itself came after it"
    if "read_on" in c:
        return (f"{c['later']!r}, which a read on {c['read_on']} at t={c['read_at']} s returned after {c['read_on']} "
                f"had seen {seen} (a replica only moves to a higher timestamp)")
    return f"{c['later']!r}, written on {c['later_on']} at t={c['later_at']} s after {c['later_on']} had seen {seen}"


def _explain(r: dict[str, Any]) -> str | None:
    """Each anomaly in one learner-facing sentence, the most telling first."""
    lines: list[str] = []
    for c in r["lost_writes"][:1]:
        if c["value"] is None:
            lines.append(f"{c['node']}'s final read is empty, yet {c['later']!r} was written on {c['later_on']} "
                         f"at t={c['later_at']} s (lost write)")
        else:
            lines.append(f"the final value on {c['node']} is {c['value']!r} (written on {c['written_on']} at "
                         f"t={c['written_at']} s), but {_follows(c)}: that later write must win (lost write)")
    for c in r["went_back"][:1]:
        if c["value"] is None:
            lines.append(f"a read on {c['node']} at t={c['time']} s returned nothing after {c['node']} had already "
                         f"seen {c['later']!r}: a replica's register went back in time (went back)")
        else:
            lines.append(f"a read on {c['node']} at t={c['time']} s returned {c['value']!r} after {c['node']} had "
                         f"already seen {_follows(c)}: a replica's register went back to an earlier write (went back)")
    for d in r["diverged"][:1]:
        a, b = d["nodes"]
        lines.append(f"after healing and converging, the final read of {a} is {d['values'][0]!r} but that of {b} "
                     f"is {d['values'][1]!r}: the replicas diverged")
    for c in r["unexpected_values"][:1]:
        lines.append(f"a read on {c['node']} at t={c['time']} s returned {c['value']!r}, which no write had "
                     "been invoked with (unexpected)")
    if not lines and r["final_read_failed"]:
        c = r["final_read_failed"][0]
        lines.append(f"the final read on {c['node']} did not succeed ({c['error']}): nothing says the nodes converged")
    return "\n".join(lines) or None
