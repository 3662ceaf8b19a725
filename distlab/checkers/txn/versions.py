"""Version orders and the dependency edges they imply: what every workload's inference shares.

Each workload infers its version orders in its own module, as a subclass of
:class:`Inference`: :mod:`.list_append` and :mod:`.rw_register`. From a version
order come ww (consecutive versions), wr (the writer of what was read) and rw
(the writer of the next version after what was read) edges; the non-cycle
anomalies are found on the way, in the same pass. Here is what they share: the
graph and the cases found, the cases both workloads report (future reads,
garbage reads, internal inconsistency, lost updates, duplicate writers),
process and real-time order, the shortening of cycles, and the explanation of
an edge, whose ww/wr/rw reasons each workload gives for itself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from .graph import PROCESS, REALTIME, RW, SIWW, WR, WW, Graph
from .history import OK, Txn

Cases = dict[str, list[dict[str, Any]]]


def fmt(v: Any) -> str:
    """EDN-ish rendering: [1 2 3], nil, plain numbers and strings."""
    if v is None:
        return "nil"
    if isinstance(v, tuple | list):
        return "[" + " ".join(fmt(x) for x in v) + "]"
    return str(v)


def plain(v: Any) -> Any:
    """Tuples back to lists, for JSON-friendly results."""
    if isinstance(v, tuple):
        return [plain(x) for x in v]
    return v


class Inference(ABC):
    """The graph of one history plus what is needed to explain any of its edges.

    A subclass per workload names it in ``workload``, infers its version orders
    when constructed, and explains its own ww/wr/rw edges (``_explain_dependency``).
    """

    workload = ""

    def __init__(self, txns: list[Txn]) -> None:
        self.txns = txns
        self.graph = Graph(len(txns))
        self.in_graph = [t.type == OK for t in txns]
        self.cases: Cases = {}
        self.warnings: list[str] = []
        self.writers: dict[Any, dict[Any, int]] = {}

    def case(self, kind: str, case: dict[str, Any]) -> None:
        self.cases.setdefault(kind, []).append(case)

    def idx(self, tid: int) -> Any:
        return self.txns[tid].op.get("index", tid)

    # ---------------------------------------------------------------- cases

    def _add_writer(self, k: Any, v: Any, tid: int) -> None:
        w = self.writers.get(k)
        if w is None:
            self.writers[k] = {v: tid}
            return
        prev = w.setdefault(v, tid)
        if prev != tid and len(self.warnings) < 20:
            self.warnings.append(
                f"value {fmt(v)} written to key {fmt(k)} by both index {self.idx(prev)} "
                f"and index {self.idx(tid)}: values must be unique per key"
            )

    def _future_read(self, tid: int, k: Any, v: Any) -> None:
        self.case("future-read", {
            "op": self.idx(tid), "key": plain(k), "element": plain(v),
            "text": f"index {self.idx(tid)} read {fmt(v)} of key {fmt(k)} before writing "
                    f"{fmt(v)} there itself",
        })

    def _garbage(self, tid: int, k: Any, v: Any, did: str, **extra: Any) -> None:
        """A read of what nobody wrote: no serial order, nor any weaker one, explains it."""
        self.case("garbage-versions", {
            "op": self.idx(tid), "key": plain(k), "value": plain(v),
            "text": f"index {self.idx(tid)} read {fmt(v)} of key {fmt(k)}, but no transaction "
                    f"{did} to key {fmt(k)}",
            **extra,
        })

    def _internal(self, tid: int, k: Any, v: Any, expected: str) -> None:
        self.case("internal", {
            "op": self.idx(tid), "key": plain(k), "value": plain(v), "expected": expected,
            "text": f"index {self.idx(tid)} read {fmt(v)} of key {fmt(k)} but its own earlier "
                    f"reads and writes imply {expected}",
        })

    def _lost_update(self, k: Any, version: Any, tids: list[int], did: str) -> None:
        self.case("lost-update", {
            "key": plain(k), "value": plain(version),
            "txns": [self.idx(t) for t in tids],
            "text": f"{len(tids)} committed transactions read {fmt(version)} of key {fmt(k)} "
                    f"and all {did}",
        })

    # ---------------------------------------------------------------- orders

    def add_orders(self, process: bool, realtime: bool) -> None:
        """Process order (each process's transactions in turn) and real-time order.

        Real time is kept small: each invocation gets edges only from the completed
        transactions not already known to precede another completed one (a frontier),
        the rest follows by transitivity.
        """
        add = self.graph.add
        members = [t for t in self.txns if self.in_graph[t.id]]
        if process:
            last: dict[Any, Txn] = {}
            for t in members:
                prev = last.get(t.process)
                if prev is not None and prev.complete is not None and t.process is not None:
                    add(prev.id, t.id, PROCESS)
                last[t.process] = t
        if realtime:
            events = [(t.invoke, 0, t.id) for t in members]
            events += [(t.complete, 1, t.id) for t in members if t.complete is not None]
            events.sort()
            frontier: dict[int, None] = {}
            preds: dict[int, list[int]] = {}
            for _, kind, tid in events:
                if kind == 0:
                    before = list(frontier)
                    for a in before:
                        add(a, tid, REALTIME)
                    preds[tid] = before
                else:
                    for a in preds.pop(tid, ()):
                        frontier.pop(a, None)
                    frontier[tid] = None

    def shortcut(
        self, nodes: list[int], kinds: list[int], allowed: int
    ) -> tuple[list[int], list[int]]:
        """Replace runs of non-rw edges by one implied real-time or process edge.

        Real-time edges are stored transitively reduced, so a BFS over them finds
        long detours; any a -> ... -> b without rw edges where a completed before b
        was invoked (or ran before b on the same process) is one edge in truth.
        The rw edges, and so the anomaly class, stay as they were.
        """
        txns = self.txns
        n = len(kinds)
        if n < 3:
            return nodes, kinds
        # rotate so the cycle starts right after an rw edge when there is one
        rws = [i for i, k in enumerate(kinds) if k == RW]
        if rws:
            r = (rws[-1] + 1) % n
            nodes = nodes[r:-1] + nodes[:r] + [nodes[r]]
            kinds = kinds[r:] + kinds[:r]
        out_nodes = [nodes[0]]
        out_kinds: list[int] = []
        i = 0
        while i < n:
            a = txns[nodes[i]]
            best = None
            j = i
            while j < n and kinds[j] != RW:
                j += 1
                if j - i < 2:
                    continue
                b = txns[nodes[j]]
                if allowed & REALTIME and a.complete is not None and a.complete < b.invoke:
                    best = (j, REALTIME)
                elif (allowed & PROCESS and a.process is not None and a.process == b.process
                      and a.complete is not None and a.complete < b.invoke):
                    best = (j, PROCESS)
            if best is None:
                out_kinds.append(kinds[i])
                out_nodes.append(nodes[i + 1])
                i += 1
            else:
                out_kinds.append(best[1])
                out_nodes.append(nodes[best[0]])
                i = best[0]
        return out_nodes, out_kinds

    # ---------------------------------------------------------------- explanations

    def explain(self, a: int, b: int, kind: int, names: dict[int, str]) -> dict[str, Any]:
        """Why edge a -> b of this kind exists, worked out again from the two txns."""
        ta, tb = self.txns[a], self.txns[b]
        na, nb = names[a], names[b]
        step: dict[str, Any] = {"from": na, "to": nb, "type": _KIND[kind]}
        if kind == PROCESS:
            step["text"] = f"{na} completed before {nb} began, both on process {ta.process}"
        elif kind == REALTIME:
            step["text"] = (f"{na} completed (history position {ta.complete}) before {nb} was "
                            f"invoked (position {tb.invoke})")
        else:
            found = self._explain_dependency(ta, tb, kind, na, nb)
            if found is None:
                step["text"] = f"{na} precedes {nb}"
            else:
                step["key"] = plain(found[0])
                step["text"] = found[1]
        step["text"] += f" ({step['type']})"
        return step

    @abstractmethod
    def _explain_dependency(
        self, ta: Txn, tb: Txn, kind: int, na: str, nb: str
    ) -> tuple[Any, str] | None:
        """(key, reason) for a ww, wr, rw or rw+ww edge ta -> tb; None if none is found."""


_KIND = {WW: "ww", WR: "wr", RW: "rw", PROCESS: "process", REALTIME: "realtime",
         SIWW: "rw+ww"}


__all__ = ["Cases", "Inference", "fmt", "plain"]
