"""Causal broadcast: delivery respects causality, and every message gets everywhere.

History shape (the `causal-broadcast` workload): `broadcast` invocations carry
`{"message": m, "deps": [...]}`, the messages m causally follows directly (the
rest follows by transitivity); a read's ok value is its node's messages in
delivery order, and its invocation names the node (`{"node": n}`, or `node` on a
final read).

- *causal order*: in every read, each dep of a message appears, and before it.
  Checking direct deps is enough: a read that respects them all respects their
  transitive closure too, by induction along the read.
- *completeness*: the set-full analysis (distlab/checkers/set_full.py) on the
  messages, with its final reads: an acknowledged message must be in every node's
  final read.
"""

from __future__ import annotations

from typing import Any

from distlab.checkers import set_full
from distlab.checkers.api import merge_valid
from distlab.checkers.lamport import t
from distlab.checkers.pairing import calls
from distlab.history import NEMESIS, OK

ANOMALIES = ("lost", "stale", "duplicated", "unexpected", "final_missing", "final_read_failed", "causal")
EXAMPLES = 10


def _as_set_history(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The history as set-full reads it: a broadcast's value is its message alone."""
    out = []
    for rec in history:
        if rec.get("f") == "broadcast" and rec["process"] != NEMESIS and isinstance(rec.get("value"), dict):
            rec = {**rec, "value": rec["value"].get("message")}
        out.append(rec)
    return out


def check(history: list[dict[str, Any]]) -> dict[str, Any]:
    deps: dict[Any, list[Any]] = {}
    reads: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for _, inv, _, done in calls(history):
        if inv.get("f") == "broadcast" and isinstance(inv.get("value"), dict):
            value = inv["value"]
            if isinstance(value.get("deps"), list) and value["deps"]:
                deps[value.get("message")] = value["deps"]
        elif inv.get("f") == "read" and done is not None and done["type"] == OK and isinstance(done.get("value"), list):
            reads.append((inv, done))

    violations: list[dict[str, Any]] = []
    sentence: str | None = None
    for inv, done in reads:
        node = inv.get("node") or (inv.get("value") or {}).get("node") or "a node"
        messages = done["value"]
        position: dict[Any, int] = {}
        for i, m in enumerate(messages):
            if isinstance(m, (int, str)):
                position.setdefault(m, i)
        for i, m in enumerate(messages):
            for d in deps.get(m, ()) if isinstance(m, (int, str)) else ():
                at = position.get(d)
                if at is not None and at < i:
                    continue
                violations.append({"node": node, "index": done["index"], "message": m, "dep": d,
                                   "dep_position": at, "position": i})
                if sentence is None:
                    final = "final read" if done.get("final") or inv.get("final") else "read"
                    how = (f"without message {d}" if at is None else
                           f"with message {d} only after it (at position {at}, message {m} at {i})")
                    sentence = (f"a {final} on {node} at {t(done['time'])} returned message {m} {how}, though "
                                f"{m} causally follows {d} (the client that broadcast {m} had seen {d}): a node "
                                "must not deliver a message before the messages it depends on")
                break

    result = set_full.check(_as_set_history(history))
    result["valid"] = merge_valid([result["valid"], not violations])
    result["causal_count"] = len(violations)
    result["causal"] = violations[:EXAMPLES]
    result["read_count_checked"] = len(reads)
    if sentence is not None:
        result["explanation"] = sentence
    return result
