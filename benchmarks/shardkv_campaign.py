"""Fault campaign: the sharded KV (distlab/systems/shardkv) under lin-kv while shards move.

    .venv/bin/python benchmarks/shardkv_campaign.py [--seeds 10] [--first 1] [--workers 1]
        [--time-limit 20] [--churn 0.5] [--nemeses partition,kill/pause,partition/...]
        [--node-args --mutant=serve-pulling]

Each seed is one simulated `distlab test -w lin-kv` against the whole cluster (3
controller servers, 3 replica groups of 3) started with --route, --auto-join and
--churn (the controller's leader moves a random shard every CHURN seconds), with 5 hot
keys, 5% loss and 5% duplication, under one nemesis set (a fault every 2 s) (`distlab.systems.shardkv.lab.
lin_kv`). Printed per nemesis set: runs, faults started, linearizable / not / undecided, Raft-unsafe runs,
runs with node errors, configurations reached (mean, in group 100's log), operations ok
and indefinite, ok operations per simulated second, wall seconds. Exit status 1 if any
run was not linearizable or not Raft-safe.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import shutil
import sys
import tempfile
import time
from typing import Any

from distlab.systems.shardkv.lab import lin_kv

NEMESES = "partition,kill/pause,partition/kill/clock,partition,loss"


def run_one(job: tuple[int, str, float, float, float, tuple[str, ...]]) -> dict[str, Any]:
    seed, nemesis, time_limit, churn, interval, node_args = job
    store = tempfile.mkdtemp(prefix=f"shardkv-{seed}-")
    t0 = time.perf_counter()
    try:
        result = lin_kv(store, seed=seed, node_args=list(node_args), churn=churn,
                        nemesis=nemesis.split(","), nemesis_interval=interval, time_limit=time_limit)
        r = result.results
        log = (result.run_dir / "node-logs" / "g100-0.log").read_text(errors="replace")
        configs = max((int(n) for n in re.findall(r" configuration (\d+):", log)), default=0)
        return {"nemesis": nemesis, "seed": seed, "valid": r["workload"].get("valid"),
                "raft": (r.get("raft_safety") or {}).get("valid"), "errors": len(r.get("node_errors") or []),
                "faults": sum(v for k, v in r["nemesis_ops"].items() if k.startswith("start")),
                "ok": r["stats"]["ok"], "info": r["stats"]["info"], "configs": configs,
                "sim": r["sim_seconds"], "wall": time.perf_counter() - t0}
    finally:
        shutil.rmtree(store, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--first", type=int, default=1)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--time-limit", type=float, default=20.0)
    p.add_argument("--churn", type=float, default=0.5)
    p.add_argument("--nemesis-interval", type=float, default=2.0)
    p.add_argument("--nemeses", default=NEMESES, help="nemesis sets, '/'-separated")
    p.add_argument("--node-args", default="", help="comma-separated arguments for every node")
    a = p.parse_args(argv)
    node_args = tuple(x for x in a.node_args.split(",") if x)
    jobs = [(seed, nem, a.time_limit, a.churn, a.nemesis_interval, node_args) for nem in a.nemeses.split("/")
            for seed in range(a.first, a.first + a.seeds)]
    if a.workers > 1:
        with multiprocessing.Pool(a.workers) as pool:
            rows = pool.map(run_one, jobs)
    else:
        rows = [run_one(j) for j in jobs]
    bad = 0
    print("| nemesis | runs | faults | linearizable | not | undecided | Raft-unsafe | node errors | "
          "configurations (mean) | ok ops | indefinite | ok ops / sim s | wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for nem in a.nemeses.split("/"):
        mine = [r for r in rows if r["nemesis"] == nem]
        valid = sum(r["valid"] is True for r in mine)
        invalid = sum(r["valid"] is False for r in mine)
        unsafe = sum(r["raft"] is False for r in mine)
        bad += invalid + unsafe
        ok, sim = sum(r["ok"] for r in mine), sum(r["sim"] for r in mine)
        print(f"| {nem} | {len(mine)} | {sum(r['faults'] for r in mine)} | {valid} | {invalid} | {len(mine) - valid - invalid} | {unsafe} | "
              f"{sum(r['errors'] > 0 for r in mine)} | {sum(r['configs'] for r in mine) / len(mine):.1f} | "
              f"{ok} | {sum(r['info'] for r in mine)} | {ok / sim:.1f} | {sum(r['wall'] for r in mine):.1f} |")
        for r in mine:
            if r["valid"] is False or r["raft"] is False:
                print(f"    seed {r['seed']}: linearizable {r['valid']}, Raft-safe {r['raft']}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
