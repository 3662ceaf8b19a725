"""Transactional isolation checking in Elle's manner, for list-append and rw-register.

`check(history)` infers version orders, builds the ww/wr/rw dependency graph
(plus process and real-time order when a requested model needs them), proves
which consistency models are ruled out with linear-time SCC tests, and explains
each anomaly by a short cycle whose every edge is given a reason.

Result shape::

    {"valid": True | False | "unknown",
     "anomaly_types": ["G-single", ...],           # sorted
     "anomalies": {type: [case, ...]},              # at most `max_cases` each
     "anomaly_counts": {type: n},  # all cases found; cycles: those found (<= max_cases)
     "not": [weakest ruled-out models], "also_not": [other ruled-out models],
     "consistency_models": [...], "workload": ...,
     "cycle_search": {"complete": bool, "timeout": {...} | None, "seconds": s},
     "stats": {"txns", "ok", "info", "fail", "graph_txns", "edges", "sccs", "largest_scc"},
     "warnings": [...]}

A cycle case is `{"type", "cycle": [{"name", "index", "process", "type", "value"}],
"steps": [{"from", "to", "type", "key"?, "text"}], "explanation"}`; a
"<model>-cycle-exists" case says a cycle ruling the model out exists in a
component of N transactions when the search could not show one in its budget.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from .anomalies import (
    EXISTS,
    MODELS,
    SPECS,
    Search,
    cycle_exists,
    normalize_models,
    not_sets,
    relevant,
    ruled_out,
)
from .graph import ITEM, PROCESS, REALTIME, Budget, tarjan
from .history import FAIL, INFO, OK, TxnHistoryError, parse
from .list_append import ListAppendInference
from .rw_register import RwRegisterInference
from .versions import Inference, plain

__all__ = ["check", "MODELS", "TxnHistoryError", "Budget"]

# one inference module per workload: its version orders and the edges they imply
INFERENCES: dict[str, type[Inference]] = {
    "list-append": ListAppendInference,
    "rw-register": RwRegisterInference,
}
WORKLOADS = tuple(INFERENCES)


def _budget(budget: float | int | dict[str, Any] | Budget | None) -> Budget:
    if isinstance(budget, Budget):
        return budget
    if budget is None:
        return Budget()
    if isinstance(budget, dict):
        return Budget(seconds=budget.get("seconds"), steps=budget.get("steps"))
    return Budget(seconds=float(budget))


def check(
    history: list[dict[str, Any]],
    workload: str = "list-append",
    consistency_models: list[str] | tuple[str, ...] | str | None = ("strict-serializable",),
    budget: float | int | dict[str, Any] | Budget | None = None,
    *,
    max_cases: int = 20,
) -> dict[str, Any]:
    """Check a transactional history against consistency models (Elle's approach).

    `budget` bounds only the search for explaining cycles: seconds, or
    {"seconds": s, "steps": n}. Verdicts never depend on it. Raises
    TxnHistoryError for records that are not transactions of this workload.
    """
    if workload not in WORKLOADS:
        raise ValueError(f"unknown workload {workload!r}; known: {', '.join(WORKLOADS)}")
    # The checker allocates millions of small tuples and dicts and makes no reference
    # cycles; the cyclic collector would rescan the whole history again and again
    # (about 2/3 of the run time on 100k transactions), so it is paused meanwhile.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _check(history, workload, consistency_models, budget, max_cases)
    finally:
        if was_enabled:
            gc.enable()


def _check(
    history: list[dict[str, Any]],
    workload: str,
    consistency_models: list[str] | tuple[str, ...] | str | None,
    budget: float | int | dict[str, Any] | Budget | None,
    max_cases: int,
) -> dict[str, Any]:
    started = time.perf_counter()
    models = normalize_models(consistency_models)
    mismatches: list[dict[str, Any]] = []
    txns = parse(history, workload, mismatches)
    inf = INFERENCES[workload](txns)
    for case in mismatches:
        inf.case("mismatched-completion", case)
    graph = inf.graph

    def want(a: str) -> bool:
        return relevant(a, models)

    use_rt = any(want(s[0]) for s in SPECS if s[0].endswith("-realtime"))
    use_proc = use_rt or any(want(s[0]) for s in SPECS if s[0].endswith("-process"))
    inf.add_orders(use_proc, use_rt)
    members = [t.id for t in txns if inf.in_graph[t.id]]
    full = ITEM | (PROCESS if use_proc else 0) | (REALTIME if use_rt else 0)
    sccs = tarjan(members, graph.succ(full))

    # proofs: which models a cycle rules out, whatever the search below achieves
    proven: dict[str, list[int]] = {}
    for model in MODELS:
        if not want(model + "-cycle-exists"):
            continue
        kinds, _ = EXISTS[model]
        if kinds & REALTIME and not use_rt or kinds & PROCESS and not use_proc:
            continue
        sizes = [len(c) for scc in sccs for c in cycle_exists(graph, scc, model)]
        if sizes:
            proven[model] = sorted(sizes, reverse=True)

    search_started = time.perf_counter()
    search = Search(graph, _budget(budget), [s for s in SPECS if want(s[0])], max_cases)
    search.shortcut = inf.shortcut
    if sccs:
        search.run(sccs)
    search_seconds = time.perf_counter() - search_started

    anomalies: dict[str, list[dict[str, Any]]] = {}
    counts: dict[str, int] = {}
    for kind, cases in inf.cases.items():
        if want(kind):
            anomalies[kind] = cases[:max_cases]
            counts[kind] = len(cases)
    for cls, cycles in search.found.items():
        if want(cls):
            anomalies[cls] = [_explain_cycle(inf, cls, c) for c in cycles]
            counts[cls] = len(cycles)
    for model in MODELS:  # weakest first: a weaker proof may already cover stronger models
        if model in proven and model not in ruled_out(list(anomalies)):
            sizes = proven[model]
            anomalies[model + "-cycle-exists"] = [{
                "type": model + "-cycle-exists", "not": model, "scc_sizes": sizes[:max_cases],
                "text": f"a cycle ruling out {model} exists in a component of {sizes[0]} "
                        f"transactions ({len(sizes)} such component(s)); the cycle search did "
                        f"not produce one within its budget",
            }]
            counts[model + "-cycle-exists"] = len(sizes)
    if search.timeout is not None:
        anomalies["cycle-search-timeout"] = [dict(search.timeout, text=(
            f"cycle search ran out of budget looking for {search.timeout['anomaly_spec_type']} "
            f"in a component of {search.timeout['scc_size']} transactions"))]
        counts["cycle-search-timeout"] = 1

    types = sorted(anomalies)
    weakest, others = not_sets(types)
    if set(weakest) | set(others):
        valid: bool | str = False
    elif not any(t.type == OK for t in txns):
        valid = "unknown"
    else:
        valid = True
    return {
        "valid": valid,
        "anomaly_types": types,
        "anomalies": anomalies,
        "anomaly_counts": counts,
        "not": weakest,
        "also_not": others,
        "consistency_models": models,
        "workload": workload,
        "cycle_search": {
            "complete": search.timeout is None,
            "timeout": search.timeout,
            "seconds": round(search_seconds, 6),
        },
        "stats": {
            "txns": len(txns),
            "ok": sum(t.type == OK for t in txns),
            "info": sum(t.type == INFO for t in txns),
            "fail": sum(t.type == FAIL for t in txns),
            "graph_txns": len(members),
            "edges": graph.edge_count(),
            "sccs": len(sccs),
            "largest_scc": max((len(c) for c in sccs), default=0),
            "seconds": round(time.perf_counter() - started, 6),
        },
        "warnings": inf.warnings,
    }


def _explain_cycle(inf: Inference, cls: str, cycle: tuple[list[int], list[int]]) -> dict[str, Any]:
    nodes, kinds = cycle
    names: dict[int, str] = {}
    for v in nodes:
        names.setdefault(v, f"T{len(names) + 1}")
    txns = []
    for v, name in names.items():
        t = inf.txns[v]
        txns.append({"name": name, "index": t.op.get("index"), "process": t.process,
                     "type": t.type, "value": [[f, plain(k), plain(x)] for f, k, x in t.mops]})
    steps = [inf.explain(nodes[i], nodes[i + 1], kinds[i], names) for i in range(len(kinds))]
    lines = ["Let:"]
    lines += [f"  {d['name']} = index {d['index']}, process {d['process']}: {d['value']}"
              for d in txns]
    lines.append("Then:")
    for i, s in enumerate(steps):
        prefix = "However, " if i == len(steps) - 1 else ""
        lines.append(f"  - {prefix}{s['from']} < {s['to']}: {s['text']}")
    lines[-1] += ": a contradiction!"
    return {"type": cls, "cycle": txns, "steps": steps, "explanation": "\n".join(lines)}
