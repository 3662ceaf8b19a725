"""Lamport's clock condition, judged from the client history of the `lamport` workload.

Each ok `stamp` records the node that served it, the `seen` timestamp its request
carried, and the `ts` the node returned. Two orders are known from the history
alone, and a logical clock must respect both (Lamport 1978: if a happened before
b then C(a) < C(b)):

- *carried*: the request carried `seen`, so it causally follows the stamp that
  gave `seen`: `ts > seen`;
- *node order*: a node's events happen one after another, so when an operation on
  a node completed before another on the same node was invoked, the later one's
  `ts` is greater.

Transitivity needs no separate check: every edge of the causal order that the
history shows is one of these two, and `<` is transitive.

Timestamps are compared as they are: integers here, `[l, c]` pairs for the
hybrid logical clock's checker (distlab/checkers/hlc.py), which reuses this one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from distlab.checkers._values import value_key
from distlab.checkers.pairing import calls
from distlab.history import OK

ANOMALIES = ("malformed", "not_after_seen", "node_order")
EXAMPLES = 10


def t(ns: int) -> str:
    """A history time in the words of a learner: seconds since the run began."""
    return f"t={ns / 1e9:.3f} s"


def show(ts: Any) -> str:
    if isinstance(ts, list) and len(ts) == 2:
        return f"(l={ts[0]}, c={ts[1]})"
    return repr(ts)


def is_int(ts: Any) -> bool:
    return type(ts) is int


class Stamp:
    """One ok stamp operation: where it ran, when, what it carried and what it got."""

    __slots__ = ("inv", "done", "node", "seen", "ts", "process")

    def __init__(self, inv: dict[str, Any], done: dict[str, Any]) -> None:
        self.inv, self.done = inv, done
        value = done["value"] if isinstance(done.get("value"), dict) else {}
        self.node = value.get("node")
        self.seen = value.get("seen")
        self.ts = value.get("ts")
        self.process = inv["process"]

    def where(self) -> str:
        return f"{self.node or 'a node'} (client process {self.process}, {t(self.done['time'])})"


def stamps(history: list[dict[str, Any]], well_formed: Callable[[Any], bool]) -> tuple[list[Stamp], list[Stamp],
                                                                                          list[tuple[int, int, Stamp]]]:
    """The ok stamps with a well-formed ts, those without one, and each good stamp's
    (invocation position, completion position, stamp)."""
    good: list[Stamp] = []
    bad: list[Stamp] = []
    spans: list[tuple[int, int, Stamp]] = []
    for inv_pos, inv, done_pos, done in calls(history):
        if done is None or done["type"] != OK or inv.get("f") != "stamp":
            continue
        s = Stamp(inv, done)
        if well_formed(s.ts):
            good.append(s)
            spans.append((inv_pos, done_pos, s))
        else:
            bad.append(s)
    return good, bad, spans


def analyse(history: list[dict[str, Any]], well_formed: Callable[[Any], bool] = is_int,
            form: str = "an integer") -> tuple[dict[str, Any], list[str], list[Stamp]]:
    """The clock condition's verdict parts (figures and anomalies), the learner's
    sentences for the violations found (worst first), and the good stamps."""
    good, bad, spans = stamps(history, well_formed)
    sentences: list[str] = []
    malformed = [{"node": s.node, "index": s.done["index"], "ts": s.ts} for s in bad]
    if bad:
        s = bad[0]
        sentences.append(f"{s.where()} answered a stamp with ts={s.ts!r}, which is not {form}")

    origin: dict[Any, Stamp] = {}  # a timestamp -> the first stamp that returned it
    for s in sorted(good, key=lambda s: s.done["index"]):
        origin.setdefault(value_key(s.ts), s)

    not_after: list[dict[str, Any]] = []
    for s in good:
        if s.seen is not None and well_formed(s.seen) and not s.ts > s.seen:
            src = origin.get(value_key(s.seen))
            not_after.append({"node": s.node, "index": s.done["index"], "seen": s.seen, "ts": s.ts,
                              "seen_from": src.node if src else None})
            if len(not_after) == 1:
                came = f", which {src.node} had returned at {t(src.done['time'])}" if src else ""
                sentences.append(
                    f"{s.where()} returned ts={show(s.ts)} for a request that carried seen={show(s.seen)}{came}: "
                    "a timestamp must be greater than every timestamp that causally precedes it "
                    "(merge what the request carried, then tick)")

    # node order: sweep the history; at each invocation, the largest ts its node had
    # already returned to a completed operation is the floor for its own.
    by_pos: dict[int, tuple[str, Stamp]] = {}
    for inv_pos, done_pos, s in spans:
        by_pos[inv_pos] = ("inv", s)
        by_pos[done_pos] = ("done", s)
    latest: dict[Any, Stamp] = {}
    floor: dict[int, Stamp] = {}  # id(stamp) -> the node's largest completed stamp before it
    for pos in sorted(by_pos):
        kind, s = by_pos[pos]
        if kind == "inv":
            prev = latest.get(s.node)
            if prev is not None:
                floor[id(s)] = prev
        else:
            prev = latest.get(s.node)
            if prev is None or s.ts > prev.ts:
                latest[s.node] = s
    order: list[dict[str, Any]] = []
    for s in good:
        prev = floor.get(id(s))
        if prev is not None and not s.ts > prev.ts:
            order.append({"node": s.node, "index": s.done["index"], "ts": s.ts,
                          "earlier_index": prev.done["index"], "earlier_ts": prev.ts})
            if len(order) == 1:
                sentences.append(
                    f"{s.where()} returned ts={show(s.ts)}, but {s.node} had already returned ts={show(prev.ts)} "
                    f"at {t(prev.done['time'])}, before this request was sent: one node's timestamps must increase "
                    "with each event it handles")
    parts = {
        "stamp_count": len(good) + len(bad),
        "malformed_count": len(malformed), "malformed": malformed[:EXAMPLES],
        "not_after_seen_count": len(not_after), "not_after_seen": not_after[:EXAMPLES],
        "node_order_count": len(order), "node_order": order[:EXAMPLES],
    }
    return parts, sentences, good


def verdict(parts: dict[str, Any], sentences: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"valid": not sentences, **parts}
    if sentences:
        out["explanation"] = "\n".join(sentences)
    elif not parts.get("stamp_count"):
        out["valid"] = "unknown"  # nothing was stamped: nothing says the clock works
        out["explanation"] = "no stamp request succeeded, so nothing shows the clock works"
    return out


def check(history: list[dict[str, Any]]) -> dict[str, Any]:
    parts, sentences, _ = analyse(history)
    return verdict(parts, sentences)
