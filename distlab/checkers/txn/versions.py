"""Version orders and the dependency edges they imply, per workload.

List-append: every committed read of a key must be a prefix of the longest one,
which therefore *is* the version order (Elle's trick: appends make histories
recoverable). rw-register: values are unique per key, the initial (nil) state
precedes every write, and a transaction that read v and then wrote v' puts v
before v' (writes follow reads). From a version order come ww (consecutive
versions), wr (the writer of what was read) and rw (the writer of the next
version after what was read) edges. The non-cycle anomalies (aborted and
intermediate reads, internal inconsistency, future reads, duplicates,
incompatible orders, a writer's appends out of its own order, lost updates,
and garbage: reads of what no transaction wrote) are found on the way, in the
same pass.

A register read followed by a write of the same key in one transaction orders
the two versions even when neither is the transaction's external read or final
write: without isolation, writes interleave (jepsen-io/maelstrom#56), and those
pairs are what show it.
"""

from __future__ import annotations

from typing import Any

from .graph import PROCESS, REALTIME, RW, SIWW, WR, WW, Graph
from .history import APPEND, FAIL, INFO, OK, WRITE, Txn

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


class Inference:
    """The graph of one history plus what is needed to explain any of its edges."""

    def __init__(self, txns: list[Txn], workload: str) -> None:
        self.txns = txns
        self.workload = workload
        self.graph = Graph(len(txns))
        self.in_graph = [t.type == OK for t in txns]
        self.cases: Cases = {}
        self.warnings: list[str] = []
        self.writers: dict[Any, dict[Any, int]] = {}
        # list-append: key -> (longest read, position of each element, unobserved appenders)
        self.order: dict[Any, tuple[tuple[Any, ...], dict[Any, int], set[int]]] = {}
        # rw-register: key -> set of (earlier value, later value) version pairs
        self.vedges: dict[Any, set[tuple[Any, Any]]] = {}
        # rw-register: key -> (value read, value written next, txn), every such pair
        self.wfr: dict[Any, list[tuple[Any, Any, int]]] = {}
        self.intermediate: dict[Any, dict[Any, int]] = {}
        if workload == "list-append":
            self._list_append()
        else:
            self._rw_register()

    def case(self, kind: str, case: dict[str, Any]) -> None:
        self.cases.setdefault(kind, []).append(case)

    def idx(self, tid: int) -> Any:
        return self.txns[tid].op.get("index", tid)

    # ---------------------------------------------------------------- list-append

    def _list_append(self) -> None:
        txns = self.txns
        failed: dict[Any, dict[Any, int]] = {}
        intermediate: dict[Any, dict[Any, int]] = {}
        reads: dict[Any, list[tuple[int, tuple[Any, ...]]]] = {}
        lost: dict[Any, dict[tuple[Any, ...], list[int]]] = {}
        multi: dict[Any, list[tuple[int, list[Any]]]] = {}  # key -> txns appending 2+ times
        for t in txns:
            tid = t.id
            mops = t.mops
            if t.type == FAIL:
                for f, k, v in mops:
                    if f == APPEND:
                        failed.setdefault(k, {}).setdefault(v, tid)
                continue
            ok = t.type == OK
            if len(mops) == 1 or len({k for _, k, _ in mops}) == len(mops):
                # each key once: nothing internal to check, no intermediate appends
                for f, k, v in mops:
                    if f == APPEND:
                        self._add_writer(k, v, tid)
                    elif ok:
                        reads.setdefault(k, []).append((tid, v))
                continue
            known: dict[Any, list[Any]] = {}
            suffix: dict[Any, list[Any]] = {}
            ext: dict[Any, tuple[Any, ...]] = {}
            for f, k, v in mops:
                if f == APPEND:
                    self._add_writer(k, v, tid)
                    kl = known.get(k)
                    if kl is not None:
                        if v in kl:  # values are unique per key: it read what it writes now
                            self._future_read(tid, k, v)
                        kl.append(v)
                    else:
                        suffix.setdefault(k, []).append(v)
                    continue
                if not ok:
                    continue
                reads.setdefault(k, []).append((tid, v))
                kl = known.get(k)
                if kl is not None:
                    if tuple(kl) != v:
                        self._internal(tid, k, v, fmt(kl))
                elif k in suffix:
                    s = tuple(suffix.pop(k))
                    if v[len(v) - len(s):] != s or len(v) < len(s):
                        self._internal(tid, k, v, "[... " + fmt(s)[1:])
                else:
                    ext[k] = v
                known[k] = list(v)
            appended: dict[Any, list[Any]] = {}
            for f, k, v in mops:
                if f == APPEND:
                    appended.setdefault(k, []).append(v)
            for k, vs in appended.items():
                if len(vs) > 1:
                    ik = intermediate.setdefault(k, {})
                    for v in vs[:-1]:
                        ik[v] = tid
                    multi.setdefault(k, []).append((tid, vs))
                if ok and k in ext:
                    lost.setdefault(k, {}).setdefault(ext[k], []).append(tid)
        self._append_edges(reads, failed, intermediate, multi)
        self._snapshot_orders()
        for k, by_version in lost.items():
            for version, tids in by_version.items():
                if len(tids) > 1:
                    self.case("lost-update", {
                        "key": plain(k), "value": plain(version),
                        "txns": [self.idx(t) for t in tids],
                        "text": f"{len(tids)} committed transactions read {fmt(version)} of key "
                                f"{fmt(k)} and all appended to it",
                    })

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

    def _duplicates(self, tid: int, k: Any, v: tuple[Any, ...]) -> None:
        counts: dict[Any, int] = {}
        for x in v:
            counts[x] = counts.get(x, 0) + 1
        dups = {fmt(x): n for x, n in counts.items() if n > 1}
        self.case("duplicate-elements", {
            "op": self.idx(tid), "key": plain(k), "value": plain(v), "duplicates": dups,
            "text": f"index {self.idx(tid)} read {fmt(v)} of key {fmt(k)}, with duplicates {dups}",
        })

    def _future_read(self, tid: int, k: Any, v: Any) -> None:
        self.case("future-read", {
            "op": self.idx(tid), "key": plain(k), "element": plain(v),
            "text": f"index {self.idx(tid)} read {fmt(v)} of key {fmt(k)} before writing "
                    f"{fmt(v)} there itself",
        })

    def _garbage(self, tid: int, k: Any, v: Any, elements: list[Any]) -> None:
        """A read of what nobody wrote: no serial order, nor any weaker one, explains it."""
        if self.workload == "list-append":
            what = " or ".join(fmt(x) for x in elements)
            text = (f"index {self.idx(tid)} read {fmt(v)} of key {fmt(k)}, but no transaction "
                    f"appended {what} to key {fmt(k)}")
        else:
            text = (f"index {self.idx(tid)} read {fmt(v)} of key {fmt(k)}, but no transaction "
                    f"wrote {fmt(v)} to key {fmt(k)}")
        case = {"op": self.idx(tid), "key": plain(k), "value": plain(v), "text": text}
        if self.workload == "list-append":
            case["element"] = plain(elements[0])
            case["elements"] = [plain(x) for x in elements]
        self.case("garbage-versions", case)

    def _internal(self, tid: int, k: Any, v: Any, expected: str) -> None:
        self.case("internal", {
            "op": self.idx(tid), "key": plain(k), "value": plain(v), "expected": expected,
            "text": f"index {self.idx(tid)} read {fmt(v)} of key {fmt(k)} but its own earlier "
                    f"reads and writes imply {expected}",
        })

    def _append_edges(
        self,
        reads: dict[Any, list[tuple[int, tuple[Any, ...]]]],
        failed: dict[Any, dict[Any, int]],
        intermediate: dict[Any, dict[Any, int]],
        multi: dict[Any, list[tuple[int, list[Any]]]],
    ) -> None:
        add = self.graph.add
        in_graph = self.in_graph
        empty: dict[Any, int] = {}
        # info transactions with appends nobody read, by key: one read elsewhere may yet
        # show they committed, and then those appends happened too
        late: list[tuple[Any, list[int], int | None, list[int]]] = []
        for k in set(reads) | set(self.writers):
            rl = reads.get(k, ())
            longest: tuple[Any, ...] = ()
            for _, r in rl:
                if len(r) > len(longest):
                    longest = r
            w = self.writers.get(k, empty)
            fk = failed.get(k)
            pos: dict[Any, int] = {}
            garbage: list[tuple[int, Any]] = []  # (position, element) nobody appended
            prev = None
            for i, v in enumerate(longest):
                if v in pos:
                    continue
                pos[v] = i
                wt = w.get(v)
                if wt is None:
                    if fk is None or v not in fk:
                        garbage.append((i, v))
                    continue
                in_graph[wt] = True
                if prev is not None and prev != wt:
                    add(prev, wt, WW)
                prev = wt
            unobs = {tid for v, tid in w.items() if v not in pos}
            maybe = [tid for tid in unobs if not in_graph[tid]]
            if maybe:
                unobs.difference_update(maybe)
                late.append((k, maybe, prev, [rt for rt, r in rl if r == longest]))
            if prev is not None:
                for u in unobs:
                    add(prev, u, WW)
            self.order[k] = (longest, pos, unobs)
            if k in multi:
                self._writer_order(k, multi[k], longest, pos)
            n_long = len(longest)
            dup_long = len(pos) != n_long
            ik = intermediate.get(k)
            # failed appends that show up in the longest read, by position: a prefix read
            # of length n holds exactly those before n (so no per-element loop per read)
            aborted = []
            if fk is not None:
                aborted = sorted((pos[x], x) for x in fk if x in pos and x not in w)
            bad: list[tuple[int, tuple[Any, ...]]] = []
            for rt, r in rl:
                n = len(r)
                if n == n_long:
                    prefix = r == longest
                else:
                    prefix = n < n_long and longest[:n] == r
                if not prefix:
                    bad.append((rt, r))
                if n:
                    last = r[-1]
                    wt = w.get(last)
                    if wt is not None:
                        add(wt, rt, WR)
                    if ik is not None and ik.get(last, rt) != rt:
                        self.case("G1b", {
                            "op": self.idx(rt), "key": plain(k), "value": plain(r),
                            "element": last, "writer": self.idx(ik[last]),
                            "text": f"index {self.idx(rt)} read {fmt(r)} of key {fmt(k)}, ending "
                                    f"in {fmt(last)}, an intermediate append of index "
                                    f"{self.idx(ik[last])}",
                        })
                    if fk is not None and (aborted or not prefix):
                        seen = [x for p, x in aborted if p < n] if prefix else [
                            x for x in r if x in fk and x not in w]
                        for x in seen:
                            self.case("G1a", {
                                "op": self.idx(rt), "key": plain(k), "value": plain(r),
                                "element": x, "writer": self.idx(fk[x]),
                                "text": f"index {self.idx(rt)} read {fmt(r)} of key {fmt(k)}, "
                                        f"including {fmt(x)}, appended by failed index "
                                        f"{self.idx(fk[x])}",
                            })
                    if garbage or not prefix:
                        junk = [x for p, x in garbage if p < n] if prefix else [
                            x for x in dict.fromkeys(r)
                            if x not in w and (fk is None or x not in fk)]
                        if junk:
                            self._garbage(rt, k, r, junk)
                    if (dup_long or not prefix) and n > 1 and len(set(r)) != n:
                        self._duplicates(rt, k, r)
                if not prefix:
                    continue
                if n == n_long:
                    for u in unobs:
                        add(rt, u, RW)
                else:
                    nt = w.get(longest[n])
                    if nt is not None:
                        add(rt, nt, RW)
            if bad:
                seen = {longest}
                shown = [plain(longest)]
                for _, r in bad:
                    if r not in seen and len(shown) < 5:
                        seen.add(r)
                        shown.append(plain(r))
                self.case("incompatible-order", {
                    "key": plain(k), "values": shown,
                    "text": f"reads of key {fmt(k)} are not prefixes of one another: "
                            + ", ".join(fmt(tuple(x)) for x in shown),
                })
        for k, maybe, prev, last_readers in late:
            for u in maybe:
                if in_graph[u]:  # committed, seen on another key: after what was read here
                    self.order[k][2].add(u)
                    if prev is not None:
                        add(prev, u, WW)
                    for rt in last_readers:
                        add(rt, u, RW)

    def _snapshot_orders(self) -> None:
        """rw edges between transactions whose appends to some key nobody observed.

        The order of unobserved appends is unknown, but if T missed a write of U's,
        U had not committed when T began; both wrote the key, so under first-committer-
        wins U began after T committed, and U's append follows T's: the rw edge is a
        ww edge too, for snapshot isolation and the models above it only.
        """
        out = self.graph.out
        add = self.graph.add
        for _, _, unobs in self.order.values():
            if len(unobs) < 2:
                continue
            for t in unobs:
                ot = out[t]
                for u in unobs:
                    if ot.get(u, 0) & RW:
                        add(t, u, SIWW)

    def _writer_order(self, k: Any, appends: list[tuple[int, list[Any]]],
                      longest: tuple[Any, ...], pos: dict[Any, int]) -> None:
        """A transaction's own appends to a key must show up in its order, earliest first."""
        for tid, vs in appends:
            last = -1
            missing = False
            for v in vs:
                p = pos.get(v)
                if p is None:
                    missing = True
                elif missing or p < last:
                    break
                else:
                    last = p
            else:
                continue
            self.case("cyclic-versions", {
                "key": plain(k), "writer": self.idx(tid), "appended": plain(tuple(vs)),
                "value": plain(longest),
                "text": f"index {self.idx(tid)} appended {fmt(tuple(vs))} to key {fmt(k)} in "
                        f"that order, but a read of {fmt(longest)} puts them in another",
            })

    # ---------------------------------------------------------------- rw-register

    def _rw_register(self) -> None:
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
                        self._garbage(rt, k, v, [v])
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
                        self.case("lost-update", {
                            "key": plain(k), "value": plain(version),
                            "txns": [self.idx(t) for t in tids],
                            "text": f"{len(tids)} committed transactions read {fmt(version)} of "
                                    f"key {fmt(k)} and all wrote it",
                        })

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
            found = (self._explain_append if self.workload == "list-append"
                     else self._explain_register)(ta, tb, kind, na, nb)
            if found is None:
                step["text"] = f"{na} precedes {nb}"
            else:
                step["key"] = plain(found[0])
                step["text"] = found[1]
        step["text"] += f" ({step['type']})"
        return step

    def _explain_append(self, ta: Txn, tb: Txn, kind: int, na: str, nb: str):
        apps_a = [(k, v) for f, k, v in ta.mops if f == APPEND]
        apps_b = [(k, v) for f, k, v in tb.mops if f == APPEND]
        reads_a = [(k, v) for f, k, v in ta.mops if f != APPEND and v is not None]
        reads_b = [(k, v) for f, k, v in tb.mops if f != APPEND and v is not None]
        w_of = self.writers
        if kind == WW:
            for kb, vb in apps_b:
                _, pos, unobs = self.order.get(kb, ((), {}, set()))
                pb = pos.get(vb, len(pos) if tb.id in unobs else -1)
                for ka, va in apps_a:
                    if ka == kb and va in pos and pos[va] < pb:
                        return kb, (f"{nb} appended {fmt(vb)} to key {fmt(kb)} after {na} "
                                    f"appended {fmt(va)}")
        elif kind == WR:
            for k, r in reads_b:
                if r and w_of.get(k, {}).get(r[-1]) == ta.id:
                    return k, (f"{nb} read {fmt(r)} of key {fmt(k)}, observing {na}'s append "
                               f"of {fmt(r[-1])}")
        elif kind == RW or kind == SIWW:
            for k, r in reads_a:
                for kb, vb in apps_b:
                    if kb == k and vb not in r:
                        text = (f"{na} read {fmt(r)} of key {fmt(k)}, missing {nb}'s append "
                                f"of {fmt(vb)}")
                        if kind == SIWW:
                            unread = {ka: u for ka, (_, _, u) in self.order.items()}
                            both = [ka for ka, _ in apps_a
                                    if {ta.id, tb.id} <= unread.get(ka, set())]
                            if both:
                                text += (f"; both appended to key {fmt(both[0])}, unread, so "
                                         f"under snapshot isolation {na} committed before "
                                         f"{nb} began")
                        return k, text
        return None

    def _explain_register(self, ta: Txn, tb: Txn, kind: int, na: str, nb: str):
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


_KIND = {WW: "ww", WR: "wr", RW: "rw", PROCESS: "process", REALTIME: "realtime",
         SIWW: "rw+ww"}


def _external_reads(t: Txn) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    written: set[Any] = set()
    for f, k, v in t.mops:
        if f == WRITE:
            written.add(k)
        elif k not in written and k not in out:
            out[k] = v
    return out


__all__ = ["Inference", "fmt", "plain", "INFO"]
