"""rw-register: version orders from the initial state and writes that follow reads.

Values are unique per key, the initial (nil) state precedes every write, and a
transaction that read v and then wrote v' puts v before v' (writes follow
reads). A register read followed by a write of the same key in one transaction
orders the two versions even when neither is the transaction's external read
or final write: without isolation, writes interleave (jepsen-io/maelstrom#56),
and those pairs are what show it. Found on the way: aborted and intermediate
reads, internal inconsistency, future reads, cyclic version orders, lost
updates, and garbage (values no transaction wrote).
"""

from __future__ import annotations

from typing import Any

from .graph import RW, WR, WW
from .history import FAIL, OK, WRITE, Txn
from .versions import Inference, fmt, plain


class RwRegisterInference(Inference):
    """Version orders, edges and non-cycle anomalies of an rw-register history."""

    workload = "rw-register"

    def __init__(self, txns: list[Txn]) -> None:
        super().__init__(txns)
        # key -> set of (earlier value, later value) version pairs
        self.vedges: dict[Any, set[tuple[Any, Any]]] = {}
        # key -> (value read, value written next, txn), every such pair
        self.wfr: dict[Any, list[tuple[Any, Any, int]]] = {}
        self.intermediate: dict[Any, dict[Any, int]] = {}
        self._infer()

    def _infer(self) -> None:
        txns = self.txns
        failed: dict[Any, dict[Any, int]] = {}
        intermediate: dict[Any, dict[Any, int]] = {}
        readers: dict[Any, dict[Any, list[int]]] = {}
        lost: dict[Any, dict[Any, list[int]]] = {}
        odd: dict[Any, dict[Any, list[int]]] = {}  # non-external reads that contradict own writes
        vedges = self.vedges
        unset = object()
        for t in txns:
            tid = t.id
            if t.type == FAIL:
                for f, k, v in t.mops:
                    if f == WRITE:
                        failed.setdefault(k, {}).setdefault(v, tid)
                continue
            ok = t.type == OK
            known: dict[Any, Any] = {}
            ext: dict[Any, Any] = {}
            last: dict[Any, Any] = {}
            pending: dict[Any, Any] = {}  # key -> another's value read since our last write
            seen: dict[Any, set[Any]] = {}  # key -> values read, for future reads
            for f, k, v in t.mops:
                if f == WRITE:
                    if k in last:
                        intermediate.setdefault(k, {})[last[k]] = tid
                    if ok:
                        if v in seen.get(k, ()):
                            self._future_read(tid, k, v)
                        r = pending.pop(k, None)
                        if r is not None:
                            self.wfr.setdefault(k, []).append((r, v, tid))
                    last[k] = v
                    known[k] = v
                    continue
                if not ok:
                    continue
                seen.setdefault(k, set()).add(v)
                expect = known.get(k, unset)
                if expect is unset:
                    ext[k] = v
                    readers.setdefault(k, {}).setdefault(v, []).append(tid)
                elif expect != v:
                    self._internal(tid, k, v, fmt(expect))
                    odd.setdefault(k, {}).setdefault(v, []).append(tid)
                if k not in last or last[k] != v:
                    pending[k] = v
                known[k] = v
            for k, v in last.items():
                self._add_writer(k, v, tid)
                if k in ext:
                    r = ext[k]
                    vedges.setdefault(k, set()).add((r, v))
                    lost.setdefault(k, {}).setdefault(r, []).append(tid)
        self.intermediate = intermediate
        add = self.graph.add
        in_graph = self.in_graph
        empty: dict[Any, int] = {}
        for k in set(readers) | set(odd):
            w = self.writers.get(k, empty)
            fk = failed.get(k, empty)
            ik = intermediate.get(k, empty)
            external = readers.get(k, empty)
            for v, rts in [*external.items(), *odd.get(k, empty).items()]:
                if v is None:
                    continue
                wt = w.get(v)
                if wt is not None:
                    if v in external and rts is external[v]:
                        in_graph[wt] = True
                        for rt in rts:
                            add(wt, rt, WR)
                elif v in fk:
                    for rt in rts:
                        self.case("G1a", {
                            "op": self.idx(rt), "key": plain(k), "value": plain(v),
                            "writer": self.idx(fk[v]),
                            "text": f"index {self.idx(rt)} read {fmt(v)} of key {fmt(k)}, written "
                                    f"by failed index {self.idx(fk[v])}",
                        })
                elif v not in ik:
                    for rt in rts:
                        self._garbage(rt, k, v, f"wrote {fmt(v)}")
                if v in ik:
                    for rt in rts:
                        if ik[v] != rt:
                            self.case("G1b", {
                                "op": self.idx(rt), "key": plain(k), "value": plain(v),
                                "writer": self.idx(ik[v]),
                                "text": f"index {self.idx(rt)} read {fmt(v)} of key {fmt(k)}, an "
                                        f"intermediate write of index {self.idx(ik[v])}",
                            })
        # writes follow reads, within a transaction: whatever it read of a key (another's
        # final or intermediate write) precedes what it writes there next. Elle uses the
        # external read and the final write; the pairs in between order writes that
        # interleave without isolation (jepsen-io/maelstrom#56: a G0 of intermediate writes)
        for k, pairs in self.wfr.items():
            w = self.writers.get(k, empty)
            ik = intermediate.get(k, empty)
            for r, _, tid in pairs:
                a = w.get(r, ik.get(r))
                if a is not None and a != tid:
                    in_graph[a] = True
                    add(a, tid, WW)
        for k in set(self.writers) | set(readers):
            w = self.writers.get(k, empty)
            by_value = readers.get(k, {})
            pairs = vedges.get(k, set())
            later = set()
            for r, v in pairs:
                if r is None or r == v:
                    continue
                later.add(v)
                a, b = w.get(r), w.get(v)
                if b is None:
                    continue
                if a is not None:
                    add(a, b, WW)
                for rt in by_value.get(r, ()):
                    add(rt, b, RW)
            if self._cyclic(pairs):
                self.case("cyclic-versions", {
                    "key": plain(k),
                    "text": f"the inferred version order of key {fmt(k)} has a cycle",
                })
                later = set()
            nil_readers = by_value.get(None, ())
            if nil_readers:
                for v, b in w.items():
                    if v not in later and in_graph[b]:
                        for rt in nil_readers:
                            add(rt, b, RW)
        for k, by_version in lost.items():
            for version, tids in by_version.items():
                if len(tids) > 1 and any(txns[t].type == OK for t in tids):
                    tids = [t for t in tids if txns[t].type == OK]
                    if len(tids) > 1:
                        self._lost_update(k, version, tids, "wrote it")

    @staticmethod
    def _cyclic(pairs: set[tuple[Any, Any]]) -> bool:
        succ: dict[Any, list[Any]] = {}
        for r, v in pairs:
            if r is not None and r != v:
                succ.setdefault(r, []).append(v)
        state: dict[Any, int] = {}
        for root in succ:
            if root in state:
                continue
            state[root] = 1
            work = [(root, iter(succ.get(root, ())))]
            while work:
                v, it = work[-1]
                for x in it:
                    s = state.get(x)
                    if s == 1:
                        return True
                    if s is None:
                        state[x] = 1
                        work.append((x, iter(succ.get(x, ()))))
                        break
                else:
                    state[v] = 2
                    work.pop()
        return False

    # ---------------------------------------------------------------- explanations

    def _explain_dependency(
        self, ta: Txn, tb: Txn, kind: int, na: str, nb: str
    ) -> tuple[Any, str] | None:
        writes_a = {k: v for f, k, v in ta.mops if f == WRITE}
        writes_b = {k: v for f, k, v in tb.mops if f == WRITE}
        ext_a = _external_reads(ta) if ta.type == OK else {}
        ext_b = _external_reads(tb) if tb.type == OK else {}
        if kind == WW:
            for k, vb in writes_b.items():
                va = writes_a.get(k)
                if k in writes_a and (va, vb) in self.vedges.get(k, ()):
                    return k, f"{nb} wrote {fmt(vb)} to key {fmt(k)} after {na} wrote {fmt(va)}"
            for k, pairs in self.wfr.items():
                w = self.writers.get(k, {})
                ik = self.intermediate.get(k, {})
                for r, v, tid in pairs:
                    if tid == tb.id and w.get(r, ik.get(r)) == ta.id:
                        return k, (f"{nb} read {fmt(r)} of key {fmt(k)}, written by {na}, and "
                                   f"then wrote {fmt(v)}")
        elif kind == WR:
            for k, v in ext_b.items():
                if k in writes_a and writes_a[k] == v:
                    return k, f"{nb} read {fmt(v)} of key {fmt(k)}, written by {na}"
        elif kind == RW:
            for k, r in ext_a.items():
                wb = writes_b.get(k, r)
                if wb != r and (r is None or (r, wb) in self.vedges.get(k, ())):
                    return k, (f"{na} read {fmt(r)} of key {fmt(k)}, which {nb} overwrote "
                               f"with {fmt(wb)}")
        return None


def _external_reads(t: Txn) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    written: set[Any] = set()
    for f, k, v in t.mops:
        if f == WRITE:
            written.add(k)
        elif k not in written and k not in out:
            out[k] = v
    return out


__all__ = ["RwRegisterInference"]
