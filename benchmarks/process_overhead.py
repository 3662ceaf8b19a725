"""What the process harness costs: router throughput and added per-message latency.

    .venv/bin/python benchmarks/process_overhead.py [--seconds S]

For 5 and 25 nodes, in one run:
- router throughput: messages per wall second through the harness when every
  node sends to every other as often as it can be asked to (every 1 ms for 5
  nodes, 10 ms for 25; benchmarks/nodes/all_to_all.py) — more than the router
  can carry, so the figure is the router's ceiling — in process mode and,
  beside it, the same workload in the simulator;
- added latency: client round trips (request -> node -> reply) of an echo node
  in JavaScript (examples/js/node.js) with no network latency configured: the
  median and p99 are the harness's two hops plus the node's own handling.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from distlab.options import TestOptions
from distlab.runner import run_test

HERE = Path(__file__).parent
ROOT = HERE.parent


def run(**kw: object) -> tuple[dict, float]:
    with tempfile.TemporaryDirectory() as store:
        start = time.perf_counter()
        result = run_test(TestOptions(store=store, seed=1, **kw))  # type: ignore[arg-type]
        return result.results, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="time limit of each process-mode run")
    args = parser.parse_args()
    all_to_all = str(HERE / "nodes" / "all_to_all.py")
    print(f"{'scenario':44} {'msgs':>9} {'wall s':>8} {'msgs/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    for nodes, interval in ((5, 0.001), (25, 0.01)):
        for mode in ("process", "sim"):
            results, _ = run(workload="echo", bin=all_to_all, bin_args=[str(interval)], node_count=nodes,
                             time_limit=args.seconds, rate=10, mode=mode)
            msgs = results["net"]["all_msgs"]
            wall = results["wall_seconds"]
            label = f"{nodes} nodes all-to-all every {interval * 1000:g} ms, {mode}"
            print(f"{label:44} {msgs:9d} {wall:8.2f} {msgs / wall:10.0f}")
        if shutil.which("node"):
            results, _ = run(workload="echo", bin=str(ROOT / "examples" / "js" / "node.js"), node_count=nodes,
                             time_limit=args.seconds, rate=200, concurrency="2n", mode="process")
            lat = results["latency_ms"]
            print(f"{f'{nodes} nodes echo round trip (JS node), process':44} {results['net']['all_msgs']:9d} "
                  f"{results['wall_seconds']:8.2f} {'':>10} {lat['0.5']:8.3f} {lat['0.99']:8.3f}")


if __name__ == "__main__":
    main()
