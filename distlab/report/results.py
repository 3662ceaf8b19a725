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
    node_errors: dict[str, int],
    error: str | None,
) -> dict[str, Any]:
    """results.json: stats, availability, network, workload verdict, and the overall one."""
    counts = {OK: 0, FAIL: 0, INFO: 0}
    by_f: dict[str, dict[str, int]] = {}
    invokes = 0
    for rec in history:
        if rec["process"] == NEMESIS:
            continue
        if rec["type"] == INVOKE:
            invokes += 1
            continue
        counts[rec["type"]] += 1
        per = by_f.setdefault(rec["f"], {OK: 0, FAIL: 0, INFO: 0})
        per[rec["type"]] += 1
    pending = invokes - sum(counts.values())
    total = invokes
    availability = counts[OK] / total if total else 0.0
    required = opts.required_availability()
    avail_ok = required is None or availability >= required
    checked = workload.check(history) if error is None else {"valid": "unknown", "error": error}
    wl_valid = checked.get("valid")
    if error is not None:
        valid: Any = "unknown"
    elif wl_valid is False or not avail_ok:
        valid = False
    elif wl_valid is True:
        valid = True
    else:
        valid = "unknown"
    results: dict[str, Any] = {
        "valid": valid,
        "seed": opts.seed,
        "stats": {"count": total, "ok": counts[OK], "fail": counts[FAIL], "info": counts[INFO],
                  "pending": pending, "by_f": by_f},
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
        "node_errors": [f"{text} (x{n})" if n > 1 else text for text, n in sorted(node_errors.items())],
    }
    if error is not None:
        results["error"] = error
    return results


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
