"""Fault campaign: lin-kv on the Raft KV node under every nemesis, over many seeds.

    .venv/bin/python benchmarks/raft_campaign.py [--seeds 1000] [--workers N] [--first S]
        [--time-limit 30] [--rate 50] [--nemesis-interval 0.5] [--latency 10]
        [--latency-dist exponential] [--node-count 5] [--mutants a,b] [--keep]
        [--scheduler local|dask|tcp://HOST:8786] [--json FILE]

Each seed is one simulated run of

    distlab test -w lin-kv --bin distlab/systems/kvraft/node.py --node-count 5 \
        --nemesis partition,kill,pause,clock,loss --nemesis-interval 0.5 --time-limit 30 \
        --rate 50 --concurrency 2n --latency 10 --latency-dist exponential

(faults change every half second and messages are reordered, so leaders change often)

(`distlab.runner.run_test` with TestOptions(mode="sim"), which also checks the nodes' Raft
trace lines) in a worker process; the seeds are
fanned out over the cores with multiprocessing, or over Dask workers with `--scheduler
dask` (a LocalCluster of --workers) or `--scheduler ADDRESS` (a running scheduler whose
workers have distlab installed; distlab.fanout). A seed decides its run, so the verdicts
are the same on every backend (`--json FILE` writes them per seed, to compare). The campaign prints every seed whose
history is not linearizable (or whose nodes crashed) and every seed whose node logs break
one of Raft's safety properties (distlab.systems.raft.trace), then the number of each
(must be 0 for the correct node), the elections seen, seeds per second and simulated
seconds per wall second.
The exit status is 1 if any violation was found. `--mutants` passes Raft mutants to the
node (distlab.systems.raft.MUTANTS) to see whether the campaign catches them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from distlab.fanout import SCHEDULER_HELP, FanoutError, describe, run_all
from distlab.options import TestOptions
from distlab.runner import run_test
from distlab.systems.kvraft import NODE_PATH

NEMESIS = ["partition", "kill", "pause", "clock", "loss"]


@dataclass(frozen=True)
class Job:
    seed: int
    time_limit: float
    rate: float
    node_count: int
    nemesis_interval: float
    latency: float
    latency_dist: str
    bin_args: tuple[str, ...]
    store: str
    keep: bool


def run_seed(job: Job) -> dict[str, Any]:
    """One simulated lin-kv run; returns its verdict and timing (runs in a worker)."""
    os.makedirs(job.store, exist_ok=True)  # a Dask worker on another machine has none yet
    store = tempfile.mkdtemp(prefix=f"seed{job.seed}-", dir=job.store)
    start = time.perf_counter()
    try:
        result = run_test(TestOptions(
            workload="lin-kv", bin=NODE_PATH, bin_args=list(job.bin_args),
            node_count=job.node_count, time_limit=job.time_limit, rate=job.rate,
            concurrency="2n", nemesis=NEMESIS, nemesis_interval=job.nemesis_interval,
            latency=job.latency, latency_dist=job.latency_dist,
            seed=job.seed, mode="sim", store=store,
        ))
        errors = result.results.get("node_errors") or []
        safety = result.results.get("raft_safety") or {"violations": [], "elections": 0}
        return {
            "seed": job.seed, "valid": result.results["workload"].get("valid"),
            "node_errors": len(errors),
            "raft": safety["violations"][:1], "leaders": safety["elections"],
            "sim": float(result.results.get("sim_seconds", 0.0)),
            "wall": time.perf_counter() - start,
            "ops": result.results.get("stats", {}).get("count", 0),
            "run_dir": str(result.run_dir),
        }
    except Exception as exc:  # a crash of the harness is a finding too
        return {"seed": job.seed, "valid": "error", "node_errors": 0, "sim": 0.0, "raft": [],
                "leaders": 0,
                "wall": time.perf_counter() - start, "ops": 0, "run_dir": store,
                "error": repr(exc)}
    finally:
        if not job.keep:
            shutil.rmtree(store, ignore_errors=True)


def verdict(r: dict[str, Any]) -> dict[str, Any]:
    """What a seed decides (no wall time, no temporary paths): equal on every backend."""
    return {k: r.get(k) for k in ("seed", "valid", "node_errors", "raft", "leaders", "sim",
                                  "ops", "error")}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=1000)
    p.add_argument("--first", type=int, default=1, help="first seed")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--time-limit", type=float, default=30.0, help="simulated seconds per run")
    p.add_argument("--rate", type=float, default=50.0)
    p.add_argument("--node-count", type=int, default=5)
    p.add_argument("--nemesis-interval", type=float, default=0.5, help="seconds between fault changes")
    p.add_argument("--latency", type=float, default=10.0, help="mean message latency, ms")
    p.add_argument("--latency-dist", default="exponential", choices=["constant", "uniform", "exponential"])
    p.add_argument("--mutants", default="", help="comma-separated Raft mutants for the node")
    p.add_argument("--keep", action="store_true", help="keep the run directories of violations")
    p.add_argument("--scheduler", default="local", help=SCHEDULER_HELP)
    p.add_argument("--json", metavar="FILE", help="write each seed's verdict (no timings) to FILE")
    args = p.parse_args(argv)

    bin_args = (f"--mutants={args.mutants}",) if args.mutants else ()
    root = tempfile.mkdtemp(prefix="raft-campaign-")
    jobs = [Job(s, args.time_limit, args.rate, args.node_count, args.nemesis_interval,
                args.latency, args.latency_dist,
                bin_args, root, args.keep)
            for s in range(args.first, args.first + args.seeds)]
    print(f"lin-kv x {args.seeds} seeds, {args.node_count} nodes, nemesis {','.join(NEMESIS)}, "
          f"{args.time_limit:g} s simulated each, faults every {args.nemesis_interval:g} s, "
          f"latency {args.latency:g} ms {args.latency_dist}, on {describe(args.scheduler, args.workers)}"
          + (f", mutants {args.mutants}" if args.mutants else ""), flush=True)
    violations: list[dict[str, Any]] = []
    raft_violations: list[dict[str, Any]] = []
    unknown = 0
    elections = 0
    sim_total = 0.0
    start = time.perf_counter()

    def seen(_: int, r: dict[str, Any]) -> None:
        nonlocal unknown, elections, sim_total
        sim_total += r["sim"]
        elections += r["leaders"]
        if r["raft"]:
            raft_violations.append(r)
            print(f"RAFT SAFETY seed {r['seed']}: {r['raft'][0]}", flush=True)
        if r["valid"] is True and not r["node_errors"]:
            return
        if r["valid"] == "unknown" and not r["node_errors"]:
            unknown += 1
            print(f"seed {r['seed']}: checker gave up (unknown)", flush=True)
            return
        violations.append(r)
        print(f"VIOLATION seed {r['seed']}: valid={r['valid']} node_errors={r['node_errors']}"
              f" {r.get('error', '')} {r['run_dir'] if args.keep else ''}", flush=True)

    try:
        results = run_all(run_seed, jobs, scheduler=args.scheduler, workers=args.workers,
                          on_result=seen, start_method="spawn")
    except FanoutError as exc:
        shutil.rmtree(root, ignore_errors=True)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    wall = time.perf_counter() - start
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    print(f"violations: {len(violations)}" + (f" (seeds {sorted(v['seed'] for v in violations)})"
                                              if violations else ""))
    print(f"raft safety violations in the node logs: {len(raft_violations)}"
          + (f" (seeds {sorted(v['seed'] for v in raft_violations)})" if raft_violations else ""))
    print(f"unknown: {unknown}")
    print(f"elections: {elections} ({elections / max(1, args.seeds):.1f} per seed)")
    print(f"seeds: {args.seeds} in {wall:.1f} s wall = {args.seeds / wall:.2f} seeds/s")
    print(f"simulated: {sim_total:.0f} s = {sim_total / wall:.1f} simulated s per wall s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump([verdict(r) for r in results], f, indent=1)
    return 1 if violations or raft_violations else 0


if __name__ == "__main__":
    sys.exit(main())
