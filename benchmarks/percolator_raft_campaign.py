"""Fault campaign: Percolator over Raft groups (raft_node.py, 9 nodes) under every nemesis.

    .venv/bin/python benchmarks/percolator_raft_campaign.py [--seeds 40] [--workers N]
        [--first S] [--time-limit 10] [--rate 50] [--key-count 4] [--max-writes-per-key 16]
        [--nemesis-interval 2]
        [--model snapshot-isolation] [--node-args --mutants=stale-reads]

Each seed is one simulated run of

    distlab test -w WORKLOAD --bin distlab/systems/percolator/raft_node.py --node-count 9 \\
        --consistency-models snapshot-isolation --nemesis partition,kill,pause,clock,loss \\
        --nemesis-interval 2 --nemesis-schedule stagger --time-limit 10 --rate 50 \\
        --concurrency 1n --latency 5 --key-count 4

alternating txn-list-append and txn-rw-register. A seed is a violation when the history is
not valid under the model, any Raft group's trace is unsafe, or a node raised; seeds with
nothing committed (a group kept without a majority the whole run) are counted apart.
Printed: violations (must be 0 for the correct node), committed / aborted / indefinite,
committed transactions per simulated and per wall second, and the checker's time. Exit
status 1 on any violation (e.g. with --node-args --mutants=stale-reads).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from distlab.options import TestOptions
from distlab.runner import run_test

NODE_PATH = str(Path(__file__).resolve().parent.parent / "distlab/systems/percolator/raft_node.py")
NEMESIS = ["partition", "kill", "pause", "clock", "loss"]
WORKLOADS = ["txn-list-append", "txn-rw-register"]


def run_seed(job: dict[str, Any]) -> dict[str, Any]:
    """One simulated run (in a worker): verdicts, outcome counts, timing."""
    store = tempfile.mkdtemp(prefix=f"seed{job['seed']}-", dir=job["root"])
    try:
        result = run_test(TestOptions(
            workload=job["workload"], bin=NODE_PATH, bin_args=job["node_args"], node_count=9,
            time_limit=job["time_limit"], rate=job["rate"], concurrency="1n", latency=5.0,
            key_count=job["key_count"], max_writes_per_key=job["max_writes"], nemesis=NEMESIS, nemesis_interval=job["interval"],
            nemesis_schedule="stagger", consistency_models=[job["model"]], seed=job["seed"],
            mode="sim", store=store, no_trace=True))
        w, r = result.results["workload"], result.results
        st = w.get("stats") or {}
        raft = r.get("raft_safety") or {}
        return {"seed": job["seed"], "workload": job["workload"], "valid": w.get("valid"),
                "anomalies": w.get("anomaly_types") or [], "raft": raft.get("valid"),
                "raft_violations": raft.get("violations") or [],
                "node_errors": len(r.get("node_errors") or []), "ok": st.get("ok", 0),
                "fail": st.get("fail", 0), "info": st.get("info", 0),
                "check": float(st.get("seconds", 0.0)), "sim": float(r.get("sim_seconds", 0.0))}
    except Exception as exc:  # a crash of the harness is a finding too
        return {"seed": job["seed"], "workload": job["workload"], "valid": "error", "anomalies": [],
                "raft": None, "raft_violations": [repr(exc)], "node_errors": 0, "ok": 0, "fail": 0,
                "info": 0, "check": 0.0, "sim": 0.0}
    finally:
        shutil.rmtree(store, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--seeds", type=int, default=40)
    p.add_argument("--first", type=int, default=1)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--time-limit", type=float, default=10.0)
    p.add_argument("--rate", type=float, default=50.0)
    p.add_argument("--key-count", type=int, default=4)
    p.add_argument("--max-writes-per-key", type=int, default=16,
                   help="rotate keys after this many writes (1000: never; the mutants show more)")
    p.add_argument("--nemesis-interval", type=float, default=2.0)
    p.add_argument("--model", default="snapshot-isolation")
    p.add_argument("--node-args", default="", help="space-separated arguments for the node")
    args = p.parse_args(argv)

    root = tempfile.mkdtemp(prefix="percolator-raft-campaign-")
    jobs = [{"seed": s, "workload": WORKLOADS[i % 2], "time_limit": args.time_limit, "rate": args.rate,
             "key_count": args.key_count, "max_writes": args.max_writes_per_key, "interval": args.nemesis_interval, "model": args.model,
             "node_args": args.node_args.split(), "root": root}
            for i, s in enumerate(range(args.first, args.first + args.seeds))]
    print(f"{args.seeds} seeds, 9 nodes (A n0-n2, B n3-n5, T n6-n8), nemesis {','.join(NEMESIS)} every "
          f"{args.nemesis_interval:g} s, {args.time_limit:g} s simulated each, {args.model}, "
          f"{args.workers} workers" + (f", node args {args.node_args}" if args.node_args else ""), flush=True)
    totals = {"ok": 0, "fail": 0, "info": 0, "check": 0.0, "sim": 0.0}
    violations, unjudged = [], 0
    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        for r in pool.imap_unordered(run_seed, jobs):
            for k in totals:
                totals[k] += r[k]
            if r["valid"] is True and r["raft"] is not False and not r["node_errors"]:
                continue
            if r["valid"] == "unknown" and r["raft"] is not False and not r["node_errors"]:
                unjudged += 1
                continue
            violations.append(r)
            print(f"VIOLATION seed {r['seed']} ({r['workload']}): valid={r['valid']} "
                  f"anomalies={','.join(r['anomalies']) or '-'} raft={r['raft']} "
                  f"{'; '.join(r['raft_violations'][:2])} node_errors={r['node_errors']}", flush=True)
    wall = time.perf_counter() - start
    shutil.rmtree(root, ignore_errors=True)
    print(f"violations: {len(violations)}" + (f" (seeds {sorted(v['seed'] for v in violations)})" if violations else ""))
    print(f"nothing committed to judge: {unjudged}")
    print(f"transactions: committed {totals['ok']:.0f}, aborted {totals['fail']:.0f}, indefinite {totals['info']:.0f}")
    print(f"committed per simulated second: {totals['ok'] / max(totals['sim'], 1e-9):.1f}; "
          f"per wall second: {totals['ok'] / wall:.1f}")
    print(f"check time: {totals['check']:.2f} s total, {totals['check'] / max(1, args.seeds) * 1000:.1f} ms per seed")
    print(f"seeds: {args.seeds} in {wall:.1f} s wall")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
