"""How fast the simulator runs: simulated seconds per wall second, messages per second.

    .venv/bin/python benchmarks/sim_speed.py [--repeat N]

(a) 5-node unique-ids at 1000 ops/s for 30 simulated s under partitions, with the
    reference node; goal: at least 100x faster than real time. (a') is the same
    node with `async def generate`, which costs an asyncio Task per request.
(b) 25 nodes, each sending to every other every 100 ms for 20 simulated s.
Each scenario runs N times (default 3) and the best run is reported, since
the machine may be busy; wall time covers the simulation, not start-up or checking.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from distlab.examples import example_path
from distlab.options import TestOptions
from distlab.runner import Runner, new_run_dir

HERE = Path(__file__).parent


def measure(opts: TestOptions) -> tuple[float, float, int]:
    """(wall seconds, simulated seconds, messages) for one run of the simulation loop."""
    with tempfile.TemporaryDirectory() as store:
        opts.store = store
        runner = Runner(opts, new_run_dir(store, opts.workload))
        start = time.perf_counter()
        runner.loop.run_guarded(runner._main())
        wall = time.perf_counter() - start
        sim = runner.loop.time()
        messages = runner.cluster.client_msgs + runner.cluster.server_msgs
        runner.loop.shutdown()
        runner.cluster.close()
        runner._trace.close()
    return wall, sim, messages


SCENARIOS = {
    "(a) unique-ids, 5 nodes, 1000 ops/s, 30 s, partitions": lambda: TestOptions(
        workload="unique-ids", bin=str(example_path("unique-ids")), node_count=5, time_limit=30,
        rate=1000, nemesis=["partition"], seed=1,
    ),
    "(a') the same with an async handler (a task per request)": lambda: TestOptions(
        workload="unique-ids", bin=str(HERE / "nodes" / "unique_ids_async.py"), node_count=5, time_limit=30,
        rate=1000, nemesis=["partition"], seed=1,
    ),
    "(b) 25 nodes all-to-all every 100 ms, 20 s": lambda: TestOptions(
        workload="echo", bin=str(HERE / "nodes" / "all_to_all.py"), node_count=25, time_limit=20,
        rate=10, seed=1,
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'scenario':58} {'wall s':>8} {'sim s/wall s':>13} {'msgs/s':>10} {'msgs':>9}")
    for name, make in SCENARIOS.items():
        best = min((measure(make()) for _ in range(args.repeat)), key=lambda r: r[0])
        wall, sim, msgs = best
        print(f"{name:58} {wall:8.3f} {sim / wall:12.1f}x {msgs / wall:10.0f} {msgs:9d}")


if __name__ == "__main__":
    main()
