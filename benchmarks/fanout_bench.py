"""Seeds per second of the Raft fault campaign with 1, 2 and N workers, on this machine's
processes and on a Dask LocalCluster (distlab.fanout), and proof that every configuration
gave the same verdicts seed by seed.

    .venv/bin/python benchmarks/fanout_bench.py [--seeds 16] [--time-limit 10] [--workers 1,2,4]
        [--backends local,dask] [--scheduler tcp://HOST:8786]

Each seed is one simulated lin-kv run of benchmarks/raft_campaign.py (Raft KV node, five
nodes, every nemesis). "start" is what the backend costs before the first seed runs (a
LocalCluster's scheduler and worker processes, or a process pool), measured as a run
of one no-op per worker; "seeds/s" counts it, "steady seeds/s" does not. The load average is printed before and after: on a
shared machine, it is what the figures mean. With --scheduler, a real cluster is measured
too (its own workers; --workers does not apply).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import raft_campaign  # noqa: E402  (the script beside this one)

from distlab.fanout import FanoutError, run_all  # noqa: E402


def noop(x: int) -> int:
    return x


def measure(scheduler: str, workers: int, jobs: list[raft_campaign.Job]) -> tuple[float, float, list[Any]]:
    """(start-up seconds, total seconds, verdicts) of one configuration: the start-up is
    the time of a run of one no-op per worker (processes or a cluster, started and
    stopped); the total, that of the real run, start-up included."""
    t0 = time.perf_counter()
    run_all(noop, [0] * max(1, workers), scheduler=scheduler, workers=workers, start_method="spawn")
    start_up = time.perf_counter() - t0
    t0 = time.perf_counter()
    results = run_all(raft_campaign.run_seed, jobs, scheduler=scheduler, workers=workers,
                      start_method="spawn")
    return start_up, time.perf_counter() - t0, [raft_campaign.verdict(r) for r in results]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=16)
    p.add_argument("--first", type=int, default=1)
    p.add_argument("--time-limit", type=float, default=10.0, help="simulated seconds per seed")
    n = os.cpu_count() or 1
    p.add_argument("--workers", default=",".join(str(w) for w in sorted({1, 2, n, 2 * n})),
                   help="comma-separated worker counts (default 1, 2, N = cores, 2N)")
    p.add_argument("--backends", default="local,dask")
    p.add_argument("--scheduler", default=None, help="also measure this Dask scheduler's workers")
    args = p.parse_args(argv)

    root = tempfile.mkdtemp(prefix="fanout-bench-")
    jobs = [raft_campaign.Job(s, args.time_limit, 50.0, 5, 0.5, 10.0, "exponential", (), root, False)
            for s in range(args.first, args.first + args.seeds)]
    configs = [(b, int(w)) for b in args.backends.split(",") for w in args.workers.split(",")]
    if args.scheduler:
        configs.append((args.scheduler, 0))
    load = os.getloadavg()
    print(f"{args.seeds} seeds of lin-kv on the Raft KV node, {args.time_limit:g} s simulated each; "
          f"{n} cores; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"{'backend':<22} {'workers':>7} {'start s':>8} {'total s':>8} {'seeds/s':>8} {'steady seeds/s':>15}")
    reference: list[Any] | None = None
    same = True
    try:
        for backend, workers in configs:
            try:
                start_up, total, verdicts = measure(backend, workers, jobs)
            except FanoutError as exc:
                print(f"{backend:<22} {workers:>7} skipped: {exc}")
                continue
            reference = verdicts if reference is None else reference
            same = same and verdicts == reference
            steady = args.seeds / max(total - start_up, 1e-3)
            print(f"{backend:<22} {workers or '':>7} {start_up:>8.1f} {total:>8.1f} "
                  f"{args.seeds / total:>8.2f} {steady:>15.2f}", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    load = os.getloadavg()
    print(f"load average after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print("verdicts identical in every configuration: " + ("yes" if same else "NO"))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
