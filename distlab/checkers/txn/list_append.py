"""List-append: the version order of a key is its longest read (Elle's trick).

Every committed read of a key must be a prefix of the longest one, which
therefore *is* the version order: appends make histories recoverable. Appends
nobody read come after it, and for snapshot isolation first-committer-wins
orders two such appenders when one missed the other (rw+ww). Found on the way:
aborted and intermediate reads, internal inconsistency, future reads,
duplicates, incompatible orders, a writer's appends out of its own order, lost
updates, and garbage (elements no transaction appended).
"""

from __future__ import annotations

from typing import Any

from .graph import RW, SIWW, WR, WW
from .history import APPEND, FAIL, OK, Txn
from .versions import Inference, fmt, plain


class ListAppendInference(Inference):
    """Version orders, edges and non-cycle anomalies of a list-append history."""

    workload = "list-append"

    def __init__(self, txns: list[Txn]) -> None:
        super().__init__(txns)
        # key -> (longest read, position of each element, unobserved appenders)
        self.order: dict[Any, tuple[tuple[Any, ...], dict[Any, int], set[int]]] = {}
        self._infer()

    def _infer(self) -> None:
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
                    self._lost_update(k, version, tids, "appended to it")

    def _duplicates(self, tid: int, k: Any, v: tuple[Any, ...]) -> None:
        counts: dict[Any, int] = {}
        for x in v:
            counts[x] = counts.get(x, 0) + 1
        dups = {fmt(x): n for x, n in counts.items() if n > 1}
        self.case("duplicate-elements", {
            "op": self.idx(tid), "key": plain(k), "value": plain(v), "duplicates": dups,
            "text": f"index {self.idx(tid)} read {fmt(v)} of key {fmt(k)}, with duplicates {dups}",
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
                            self._garbage(rt, k, r, "appended " + " or ".join(map(fmt, junk)),
                                          element=plain(junk[0]), elements=list(map(plain, junk)))
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

    # ---------------------------------------------------------------- explanations

    def _explain_dependency(
        self, ta: Txn, tb: Txn, kind: int, na: str, nb: str
    ) -> tuple[Any, str] | None:
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


__all__ = ["ListAppendInference"]
