"""Fault campaign: the Percolator node (lin-kv rows + lin-tso) under every nemesis, many seeds.

    .venv/bin/python benchmarks/percolator_campaign.py [--seeds 200] [--workers N] [--first S]
        [--time-limit 10] [--rate 100] [--key-count 3] [--nemesis-interval 1]
        [--workloads txn-rw-register,txn-list-append] [--node-args --ttl=5,--mutants=a] [--keep]

Each seed is one simulated run (`distlab.runner.run_test`, mode sim) of

    distlab test -w WORKLOAD --bin distlab/systems/percolator/node.py --node-count 3 \
        --consistency-models snapshot-isolation --nemesis partition,kill,pause,clock,loss \
        --nemesis-interval 1 --time-limit 10 --rate 100 --concurrency 3n --latency 10 \
        --latency-dist exponential --key-count 3

alternating the two transactional workloads; three hot keys make transactions collide
(and write skew happen) often. Seeds are fanned out over the cores with multiprocessing.
Printed: every seed whose history is not snapshot-isolated (SI violations: must be 0 for
the correct node) or whose nodes raised; seeds with nothing committed to judge (the
nemesis kept every node paused or down), counted apart as unknown; committed / aborted / indefinite transactions;
committed transactions per simulated second and per wall second; the checker's total
time; and how many valid seeds still had dependency cycles (write skew, G2-item, which
SI allows). The exit status is 1 if any violation was found. `--node-args` passes
arguments to the node, e.g. `--mutants=secondaries-first,--ttl=5` to see it caught.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distlab.options import TestOptions
from distlab.runner import run_test

NODE_PATH = str(Path(__file__).resolve().parent.parent / "distlab/systems/percolator/node.py")
NEMESIS = ["partition", "kill", "pause", "clock", "loss"]


@dataclass(frozen=True)
class Job:
    seed: int
    workload: str
    time_limit: float
    rate: float
    key_count: int
    nemesis_interval: float
    node_args: tuple[str, ...]
    store: str
    keep: bool


def run_seed(job: Job) -> dict[str, Any]:
    """One simulated run; its verdict, outcome counts and timing (runs in a worker)."""
    store = tempfile.mkdtemp(prefix=f"seed{job.seed}-", dir=job.store)
    start = time.perf_counter()
    try:
        result = run_test(TestOptions(
            workload=job.workload, bin=NODE_PATH, bin_args=list(job.node_args), node_count=3,
            time_limit=job.time_limit, rate=job.rate, concurrency="3n", nemesis=NEMESIS,
            nemesis_interval=job.nemesis_interval, nemesis_schedule="stagger", latency=10.0,
            latency_dist="exponential", key_count=job.key_count,
            consistency_models=["snapshot-isolation"], seed=job.seed, mode="sim", store=store,
            no_trace=True,
        ))
        w = result.results["workload"]
        stats = w.get("stats") or {}
        return {
            "seed": job.seed, "workload": job.workload, "valid": w.get("valid"),
            "anomalies": w.get("anomaly_types") or [],
            "node_errors": len(result.results.get("node_errors") or []),
            "ok": stats.get("ok", 0), "fail": stats.get("fail", 0), "info": stats.get("info", 0),
            "cycles": stats.get("sccs", 0), "check": float(stats.get("seconds", 0.0)),
            "sim": float(result.results.get("sim_seconds", 0.0)),
            "wall": time.perf_counter() - start, "run_dir": str(result.run_dir),
        }
    except Exception as exc:  # a crash of the harness is a finding too
        return {"seed": job.seed, "workload": job.workload, "valid": "error", "anomalies": [],
                "node_errors": 0, "ok": 0, "fail": 0, "info": 0, "cycles": 0, "check": 0.0,
                "sim": 0.0, "wall": time.perf_counter() - start, "run_dir": store, "error": repr(exc)}
    finally:
        if not job.keep:
            shutil.rmtree(store, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--seeds", type=int, default=200)
    p.add_argument("--first", type=int, default=1, help="first seed")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--time-limit", type=float, default=10.0, help="simulated seconds per run")
    p.add_argument("--rate", type=float, default=100.0)
    p.add_argument("--key-count", type=int, default=3)
    p.add_argument("--nemesis-interval", type=float, default=1.0, help="seconds between fault changes")
    p.add_argument("--workloads", default="txn-rw-register,txn-list-append")
    p.add_argument("--node-args", default="", help="comma-separated arguments for the node")
    p.add_argument("--keep", action="store_true", help="keep the run directories of violations")
    args = p.parse_args(argv)

    workloads = [w for w in args.workloads.split(",") if w]
    node_args = tuple(a for a in args.node_args.split(",") if a)
    root = tempfile.mkdtemp(prefix="percolator-campaign-")
    jobs = [Job(s, workloads[i % len(workloads)], args.time_limit, args.rate, args.key_count,
                args.nemesis_interval, node_args, root, args.keep)
            for i, s in enumerate(range(args.first, args.first + args.seeds))]
    print(f"{'+'.join(workloads)} x {args.seeds} seeds, 3 nodes, nemesis {','.join(NEMESIS)} every "
          f"{args.nemesis_interval:g} s, {args.time_limit:g} s simulated each, {args.key_count} keys, "
          f"rate {args.rate:g}, {args.workers} workers" + (f", node args {' '.join(node_args)}" if node_args else ""),
          flush=True)
    violations: list[dict[str, Any]] = []
    totals = {"ok": 0, "fail": 0, "info": 0, "check": 0.0, "sim": 0.0}
    skew_seeds = unjudged = 0
    start = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(args.workers) as pool:
        for r in pool.imap_unordered(run_seed, jobs):
            for k in totals:
                totals[k] += r[k]
            if r["valid"] is True and not r["node_errors"]:
                skew_seeds += r["cycles"] > 0
                continue
            if r["valid"] == "unknown" and not r["node_errors"]:
                # Nothing committed to judge (e.g. every node paused or down the whole run).
                unjudged += 1
                print(f"seed {r['seed']} ({r['workload']}): nothing committed, checker gave up (unknown)",
                      flush=True)
                continue
            violations.append(r)
            print(f"VIOLATION seed {r['seed']} ({r['workload']}): valid={r['valid']} "
                  f"anomalies={','.join(r['anomalies']) or '-'} node_errors={r['node_errors']} "
                  f"{r.get('error', '')} {r['run_dir'] if args.keep else ''}", flush=True)
    wall = time.perf_counter() - start
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    txns = totals["ok"] + totals["fail"] + totals["info"]
    print(f"SI violations: {len(violations)}"
          + (f" (seeds {sorted(v['seed'] for v in violations)})" if violations else ""))
    print(f"unknown (nothing committed to judge): {unjudged}")
    print(f"transactions: {txns:.0f} = committed {totals['ok']:.0f} + aborted {totals['fail']:.0f}"
          f" + indefinite {totals['info']:.0f}")
    print(f"committed per simulated second: {totals['ok'] / max(totals['sim'], 1e-9):.1f}; "
          f"per wall second: {totals['ok'] / wall:.1f}")
    print(f"seeds with dependency cycles but valid under SI (write skew, allowed): {skew_seeds}")
    print(f"check time: {totals['check']:.2f} s total, {totals['check'] / max(1, args.seeds) * 1000:.1f} ms per seed")
    print(f"seeds: {args.seeds} in {wall:.1f} s wall = {args.seeds / wall:.2f} seeds/s")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
