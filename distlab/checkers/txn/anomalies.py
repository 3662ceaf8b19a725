"""Anomaly classes, the consistency models they rule out, and the cycle search.

Following Adya and Elle: a cycle of ww edges is G0, of ww/wr edges G1c, with
exactly one rw edge G-single, with rw edges never adjacent G-nonadjacent, and
otherwise (2+ rw) G2-item. When a cycle needs process-order or real-time edges
the class gets a -process or -realtime suffix, and only session or real-time
models rule it out.

Verdicts do not depend on the (possibly slow) search for explaining cycles:
each class has a linear-time "cycle exists" test (an SCC of the right edge
kinds), so what the search cannot explain within its budget is still proven.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .graph import (
    ITEM,
    PROCESS,
    REALTIME,
    RW,
    SIWW,
    WR,
    WW,
    Budget,
    BudgetExceeded,
    Graph,
    bfs_path,
    components,
    tarjan,
)

RU, RC, SI, RR, SER = (
    "read-uncommitted", "read-committed", "snapshot-isolation", "repeatable-read", "serializable",
)
SSSI, SSSER = "strong-session-snapshot-isolation", "strong-session-serializable"
STRONG_SI, STRICT = "strong-snapshot-isolation", "strict-serializable"

# stronger model -> the models it directly implies
IMPLIES: dict[str, list[str]] = {
    RU: [],
    RC: [RU],
    SI: [RC],
    RR: [RC],
    SER: [RR],
    SSSI: [SI],
    SSSER: [SER],
    STRONG_SI: [SSSI],
    STRICT: [SSSER, STRONG_SI],
}
MODELS = list(IMPLIES)
ALIASES = {
    "strong-serializable": STRICT, "strict-1sr": STRICT, "linearizable": STRICT,
    "1sr": SER, "si": SI, "rc": RC, "ru": RU, "rr": RR,
}

_CYCLE = ["G0", "G1c", "G-single", "G-nonadjacent", "G2-item"]
# anomaly -> the models that forbid it directly (stronger ones follow through IMPLIES).
# Reads no execution can produce (of what nobody wrote, of a list in an order no
# writer made, with an element twice) and completions that do not answer their
# invocation are ruled out by every model; Elle counts a future read (observing a
# write the transaction only makes later) as G1c.
PROHIBITED: dict[str, list[str]] = {
    "G0": [RU], "G1a": [RC], "G1b": [RC], "G1c": [RC], "future-read": [RC],
    "duplicate-elements": [RU], "incompatible-order": [RU], "cyclic-versions": [RU],
    "garbage-versions": [RU], "mismatched-completion": [RU],
    "internal": [SI, RR], "lost-update": [SI, RR],
    "G-single": [SI, RR], "G-nonadjacent": [SI, RR], "G2-item": [RR],
}
for _base in _CYCLE:
    _weak = _base != "G2-item"
    PROHIBITED[_base + "-process"] = [SSSI, SSSER] if _weak else [SSSER]
    PROHIBITED[_base + "-realtime"] = [STRONG_SI, STRICT] if _weak else [STRICT]
for _m in MODELS:
    PROHIBITED[_m + "-cycle-exists"] = [_m]


def _weaker_closure() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for m in MODELS:
        seen = {m}
        todo = [m]
        while todo:
            for w in IMPLIES[todo.pop()]:
                if w not in seen:
                    seen.add(w)
                    todo.append(w)
        out[m] = seen
    return out


WEAKER = _weaker_closure()


def normalize_models(models: list[str] | tuple[str, ...] | str | None) -> list[str]:
    if models is None:
        return [STRICT]
    if isinstance(models, str):
        models = [models]
    out = []
    for m in models:
        m = ALIASES.get(m.lower().replace("_", "-"), m.lower().replace("_", "-"))
        if m not in IMPLIES:
            raise ValueError(f"unknown consistency model {m!r}; known: {', '.join(MODELS)}")
        out.append(m)
    return out


def ruled_out(anomalies: list[str]) -> set[str]:
    """Every model some of these anomalies rule out (upward closed)."""
    direct = {m for a in anomalies for m in PROHIBITED.get(a, ())}
    return {m for m in MODELS if WEAKER[m] & direct}


def relevant(anomaly: str, requested: list[str]) -> bool:
    """Whether a requested model forbids this anomaly (else it is not looked for)."""
    return bool(ruled_out([anomaly]) & set(requested))


def not_sets(found: list[str]) -> tuple[list[str], list[str]]:
    """(weakest ruled-out models, the other ruled-out models), like Elle's :not/:also-not."""
    out = ruled_out(found)
    weakest = sorted(m for m in out if not (WEAKER[m] - {m}) & out)
    return weakest, sorted(out - set(weakest))


def classify(kinds: list[int]) -> str:
    """The anomaly class of a cycle, from the kinds of its edges in order."""
    n = len(kinds)
    rws = [i for i, k in enumerate(kinds) if k == RW]
    if not rws:
        # rw+ww edges are rw edges too: whichever way their keys' writes went, a G-single
        base = "G-single" if SIWW in kinds else "G1c" if WR in kinds else "G0"
    elif len(rws) == 1:
        base = "G-single"
    elif all(kinds[(i + 1) % n] != RW for i in rws):
        base = "G-nonadjacent"
    else:
        base = "G2-item"
    if REALTIME in kinds:
        return base + "-realtime"
    if PROCESS in kinds:
        return base + "-process"
    return base


# (class name, kind of the first edge, kinds allowed on the way back, kinds required on
# it, whether rw edges must never be adjacent)
_PLAIN = WW | WR
SPECS: list[tuple[str, int, int, int, bool]] = []
for _suffix, _extra, _req in (("", 0, 0), ("-process", PROCESS, PROCESS),
                              ("-realtime", PROCESS | REALTIME, REALTIME)):
    SPECS += [
        ("G0" + _suffix, WW, WW | _extra, _req, False),
        ("G1c" + _suffix, WR, _PLAIN | _extra, _req, False),
        ("G-single" + _suffix, RW, _PLAIN | SIWW | _extra, _req, False),
        ("G-nonadjacent" + _suffix, RW, ITEM | _extra, _req or RW, True),
        ("G2-item" + _suffix, RW, ITEM | _extra, _req or RW, False),
    ]

# model -> (edge kinds, whether two rw edges in a row are forbidden) for "a cycle exists";
# rw+ww edges count as ww for the snapshot isolations only: weaker models do not order
# the writes of a transaction that missed another's writes
EXISTS: dict[str, tuple[int, bool]] = {
    RU: (WW, False),
    RC: (WW | WR, False),
    SI: (WW | WR | SIWW, True),
    RR: (ITEM, False),
    SER: (ITEM, False),
    SSSI: (WW | WR | SIWW | PROCESS, True),
    SSSER: (ITEM | PROCESS, False),
    STRONG_SI: (WW | WR | SIWW | PROCESS | REALTIME, True),
    STRICT: (ITEM | PROCESS | REALTIME, False),
}

# (nodes, kinds, allowed kinds) -> a shorter cycle through implied order edges
Shortcut = Callable[[list[int], list[int], int], tuple[list[int], list[int]]]

BITSET_LIMIT = 8000  # components; beyond this, fall back to one BFS per candidate


def cycle_exists(graph: Graph, members: list[int], model: str) -> list[list[int]]:
    """SCCs (as txn ids) over the edges whose cycles rule `model` out."""
    kinds, no_adjacent_rw = EXISTS[model]
    member = set(members)
    if not no_adjacent_rw:
        return tarjan(members, graph.succ(kinds, member))
    doubled = tarjan([2 * v for v in members], graph.doubled_succ(kinds, member))
    return [sorted({x // 2 for x in comp}) for comp in doubled]


class Search:
    """Finds explaining cycles, one per class per sub-component, within a budget."""

    def __init__(self, graph: Graph, budget: Budget, specs: list[tuple[str, int, int, int, bool]],
                 max_cycles: int) -> None:
        self.graph = graph
        self.budget = budget
        self.specs = specs
        self.max_cycles = max_cycles
        self.found: dict[str, list[tuple[list[int], list[int]]]] = {}
        self.timeout: dict[str, Any] | None = None
        self.shortcut: Shortcut | None = None

    def run(self, sccs: list[list[int]]) -> None:
        for scc in sorted(sccs, key=len):
            here: set[str] = set()
            for spec in self.specs:
                if len(self.found.get(spec[0], ())) >= self.max_cycles:
                    continue
                try:
                    self._spec(scc, here, *spec)
                except BudgetExceeded:
                    self.timeout = {"anomaly_spec_type": spec[0], "scc_size": len(scc)}
                    return

    def _spec(self, scc: list[int], here: set[str], name: str, first: int, allowed: int,
              required: int, nonadjacent: bool) -> None:
        graph = self.graph
        out = graph.out
        member = set(scc)
        self.budget.tick(len(scc))
        for sub in tarjan(scc, graph.succ(allowed | first, member)):
            sub_set = set(sub)
            # first edges a -> b; we need a path b -> a over `allowed` using `required`
            firsts: dict[int, set[int]] = {}
            both = allowed | first
            for a in sub:
                for b, m in out[a].items():
                    m &= both
                    if m & -m == first and b in sub_set:
                        firsts.setdefault(b, set()).add(a)
            if not firsts:
                continue
            self.budget.tick(len(sub))
            candidates = self._reachable(sub, sub_set, firsts, allowed, required)
            for b, sources in candidates:
                hit = bfs_path(graph, b, sources, sub_set, allowed, required, self.budget,
                               nonadjacent)
                if hit is None:
                    continue
                a, path = hit
                # nodes[i] -kinds[i]-> nodes[i + 1]; the cycle closes at a
                nodes = [a, b, *(v for v, _ in path)]
                kinds = [first, *(k for _, k in path)]
                # a walk that had to pick up a required edge may revisit nodes: report
                # the simple cycle of the wanted class, else the first simple one
                simple = [(classify(c[1]), c) for c in simple_cycles(nodes, kinds)]
                cls, cycle = next((x for x in simple if x[0] == name), simple[0])
                if self.shortcut is not None and allowed & (PROCESS | REALTIME):
                    cycle = self.shortcut(*cycle, allowed)
                    cls = classify(cycle[1])
                if cls not in here or cls == name:
                    here.add(cls)
                    found = self.found.setdefault(cls, [])
                    if len(found) < self.max_cycles:
                        found.append(cycle)
                break

    def _reachable(self, sub: list[int], sub_set: set[int], firsts: dict[int, set[int]],
                   allowed: int, required: int) -> list[tuple[int, set[int]]]:
        """Candidate (b, sources) pairs, filtered by exact reachability when affordable."""
        comps = components(sub, self.graph.succ(allowed, sub_set))
        if len(comps) > BITSET_LIMIT:
            return sorted(firsts.items())
        out = self.graph.out
        comp_of: dict[int, int] = {}
        for i, c in enumerate(comps):
            for v in c:
                comp_of[v] = i
        reach_any: list[int] = []
        reach_req: list[int] = []
        for i, c in enumerate(comps):  # sinks first: successors are already done
            r_any = 1 << i
            r_req = 0
            internal_req = False
            for v in c:
                for w, m in out[v].items():
                    m &= allowed
                    if not m or w not in sub_set:
                        continue
                    req = m & -m & required
                    j = comp_of[w]
                    if j == i:
                        if req:
                            internal_req = True
                        continue
                    r_any |= reach_any[j]
                    r_req |= reach_any[j] if req else reach_req[j]
            if internal_req:
                r_req |= r_any
            reach_any.append(r_any)
            reach_req.append(r_req)
            self.budget.tick(len(c))
        reach = reach_req if required else reach_any
        result = []
        for b in sorted(firsts):
            rb = reach[comp_of[b]]
            ok = {a for a in firsts[b] if rb >> comp_of[a] & 1}
            if ok:
                result.append((b, ok))
        return result


def simple_cycles(nodes: list[int], kinds: list[int]) -> list[tuple[list[int], list[int]]]:
    """Split a closed walk (nodes[0] == nodes[-1]) into simple cycles."""
    stack_nodes = [nodes[0]]
    stack_kinds: list[int] = []
    where = {nodes[0]: 0}
    out = []
    for i, k in enumerate(kinds):
        v = nodes[i + 1]
        j = where.get(v)
        if j is None:
            where[v] = len(stack_nodes)
            stack_nodes.append(v)
            stack_kinds.append(k)
            continue
        out.append((stack_nodes[j:] + [v], stack_kinds[j:] + [k]))
        for x in stack_nodes[j + 1:]:
            del where[x]
        del stack_nodes[j + 1:]
        del stack_kinds[j:]
    return out
