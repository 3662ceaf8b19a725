"""results.json: what a run amounts to, computed from its history and counters."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from distlab.checkers.api import UNKNOWN, Checker, Compose, merge_valid
from distlab.checkers.raft_trace import RaftTrace
from distlab.checkers.stats import Availability, Stats, never_succeeded

__all__ = ["never_succeeded", "quantiles", "run_checker", "summarize", "trace_hash"]


def quantiles(values: list[float], qs: tuple[float, ...] = (0.0, 0.5, 0.95, 0.99, 1.0)) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    top = len(ordered) - 1
    return {str(q): round(ordered[min(top, int(q * top + 0.5))] * 1000, 3) for q in qs}


def run_checker(workload: Checker, required_availability: float | None) -> Compose:
    """Everything a run is judged by: its workload's checker, the stats checker, the
    availability threshold, and the checkers that speak up only when the run gives
    them something to check (the Raft trace). The runner and `distlab analyze` both
    build it, from the same options (config.json)."""
    return Compose({
        "workload": workload,
        "stats": Stats(),
        "availability": Availability(required_availability),
        "raft_safety": RaftTrace(),
    })


def summarize(
    history: list[dict[str, Any]],
    checker: Compose,
    params: Mapping[str, Any],
    *,
    latencies: list[float],
    server_msgs: int,
    client_msgs: int,
    dropped: int,
    node_errors: list[dict[str, Any]],
    lost: int = 0,
    error: str | None,
) -> dict[str, Any]:
    """results.json: each checker's verdict under its name (workload, stats, availability,
    raft_safety), network, latency, node errors, and the overall verdict. A run that could
    not finish (`error`) is not checked by its workload checker: its verdict is unknown,
    unless another checker found it invalid anyway."""
    if error is not None:
        checkers = dict(checker.checkers)
        checkers.pop("workload", None)
        parts = Compose(checkers).check(history, params).figures
        parts["workload"] = {"valid": UNKNOWN, "error": error}
        valid = merge_valid([UNKNOWN] + [p["valid"] for k, p in parts.items() if k not in ("stats", "availability")])
    else:
        verdict = checker.check(history, params)
        parts, valid = verdict.figures, verdict.valid
    total = parts["stats"]["count"]
    results: dict[str, Any] = {
        "valid": valid,
        "seed": params.get("seed"),
        **parts,
        "net": {
            "client_msgs": client_msgs,
            "server_msgs": server_msgs,
            "all_msgs": client_msgs + server_msgs,
            "dropped": dropped,
            "lost": lost,
            "msgs_per_op": round(server_msgs / total, 4) if total else 0.0,
        },
        "latency_ms": quantiles(latencies),
        "node_errors": node_errors,
    }
    if error is not None:
        results["error"] = error
    return results


def trace_hash(run_dir: Path) -> str:
    """One hash over the message trace and the history: equal hashes, identical runs
    (a run without messages.jsonl, --no-trace, hashes its history alone)."""
    outer = hashlib.sha256()
    for name in ("messages.jsonl", "history.jsonl"):
        if name == "messages.jsonl" and not (run_dir / name).exists():
            continue
        inner = hashlib.sha256()
        with open(run_dir / name, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                inner.update(chunk)
        outer.update(inner.digest())
    return outer.hexdigest()
