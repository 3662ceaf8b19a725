"""results.json: what a run amounts to, computed from its history and counters."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from distlab.history import FAIL, INFO, INVOKE, NEMESIS, OK
from distlab.options import TestOptions
from distlab.workloads.base import Workload


def quantiles(values: list[float], qs: tuple[float, ...] = (0.0, 0.5, 0.95, 0.99, 1.0)) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    top = len(ordered) - 1
    return {str(q): round(ordered[min(top, int(q * top + 0.5))] * 1000, 3) for q in qs}


def summarize(
    history: list[dict[str, Any]],
    workload: Workload,
    opts: TestOptions,
    *,
    latencies: list[float],
    server_msgs: int,
    client_msgs: int,
    dropped: int,
    node_errors: list[dict[str, Any]],
    error: str | None,
) -> dict[str, Any]:
    """results.json: stats, availability, network, workload verdict, node errors, and the overall one."""
    counts = {OK: 0, FAIL: 0, INFO: 0}
    by_f: dict[str, dict[str, Any]] = {}
    invokes = 0
    for rec in history:
        if rec["process"] == NEMESIS:
            continue
        per = by_f.get(rec["f"])
        if per is None:
            per = by_f[rec["f"]] = {"count": 0, OK: 0, FAIL: 0, INFO: 0}
        if rec["type"] == INVOKE:
            invokes += 1
            per["count"] += 1
            continue
        counts[rec["type"]] += 1
        per[rec["type"]] += 1
    pending = invokes - sum(counts.values())
    stats_errors = never_succeeded(by_f)
    total = invokes
    availability = counts[OK] / total if total else 0.0
    required = opts.required_availability()
    avail_ok = required is None or availability >= required
    checked = workload.check(history) if error is None else {"valid": "unknown", "error": error}
    wl_valid = checked.get("valid")
    if error is not None:
        valid: Any = "unknown"
    elif wl_valid is False or not avail_ok or stats_errors:
        valid = False
    elif wl_valid is True:
        valid = True
    else:
        valid = "unknown"
    results: dict[str, Any] = {
        "valid": valid,
        "seed": opts.seed,
        "stats": {"valid": not stats_errors, "count": total, "ok": counts[OK], "fail": counts[FAIL],
                  "info": counts[INFO], "pending": pending, "by_f": by_f, "errors": stats_errors},
        "availability": {"valid": avail_ok, "ok_fraction": round(availability, 6),
                         "required": required},
        "net": {
            "client_msgs": client_msgs,
            "server_msgs": server_msgs,
            "all_msgs": client_msgs + server_msgs,
            "dropped": dropped,
            "msgs_per_op": round(server_msgs / total, 4) if total else 0.0,
        },
        "latency_ms": quantiles(latencies),
        "workload": checked,
        "node_errors": node_errors,
    }
    if error is not None:
        results["error"] = error
    return results


def never_succeeded(by_f: dict[str, dict[str, Any]]) -> list[str]:
    """Jepsen's stats checker: every function invoked must succeed at least once.

    A run whose every echo failed checks as "nothing wrong was returned"; this is
    what makes it invalid. Counts client operations of the main and final phases.
    """
    for per in by_f.values():
        per["valid"] = per[OK] > 0 or not per["count"]
    return [f"no {f!r} succeeded (0 ok of {per['count']})" for f, per in sorted(by_f.items()) if not per["valid"]]


def trace_hash(run_dir: Path) -> str:
    """One hash over the message trace and the history: equal hashes, identical runs."""
    outer = hashlib.sha256()
    for name in ("messages.jsonl", "history.jsonl"):
        inner = hashlib.sha256()
        with open(run_dir / name, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                inner.update(chunk)
        outer.update(inner.digest())
    return outer.hexdigest()
