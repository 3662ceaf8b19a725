"""How fast the simulator runs: simulated seconds per wall second, messages per second,
and how long the whole `distlab test` command takes for the same scenario.

    .venv/bin/python benchmarks/sim_speed.py [--repeat N] [--skip-command]

(a) 5-node unique-ids at 1000 ops/s for 30 simulated s under partitions, with the
    reference node; goal: at least 100x faster than real time. (a') is the same
    node with `async def generate`, which costs an asyncio Task per request.
(b) 25 nodes, each sending to every other every 100 ms for 20 simulated s.
Each scenario runs N times (default 3) and the best run is reported, since
the machine may be busy; wall time covers the simulation loop only.

Then the whole command for (a), `distlab test ...` as a learner types it (the console
script, hash-pinning re-exec, imports, history and trace writing, checking and the
summary included; goal: at least 40x real time), and where its time goes. The first
line is a calibration (a Python loop of 10M additions) so that figures from different
machines can be compared.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from distlab.examples import example_path
from distlab.options import TestOptions
from distlab.runner import Runner, new_run_dir

HERE = Path(__file__).parent
ROOT = HERE.parent


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

COMMAND_SECONDS = 30.0
COMMAND_ARGS = ["test", "-w", "unique-ids", "--bin", str(example_path("unique-ids")), "--node-count", "5",
                "--rate", "1000", "--time-limit", str(int(COMMAND_SECONDS)), "--nemesis", "partition", "--seed", "1"]
"""Scenario (a) as a command line; -q and --store are added."""


CALIBRATION = compile("total = 0\nfor i in range(10_000_000):\n    total += i\n", "<calibration>", "exec")
"""The loop as written at a module's top level (names are globals), as one types it to try."""


def calibration() -> float:
    """Seconds for a Python loop of 10M additions: this machine's speed, for comparing figures."""
    start = time.perf_counter()
    exec(CALIBRATION, {})  # noqa: S102  (our own constant code)
    return time.perf_counter() - start


def best_wall(argv: list[str], repeat: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Best wall seconds and best CPU seconds (user + system, the process and its children)
    of `argv` run as a subprocess `repeat` times, output discarded. CPU time varies far
    less than wall time when the machine is busy."""
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False, cwd=ROOT)
        best = min(best, time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best_cpu = min(best_cpu, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return best, best_cpu


@contextlib.contextmanager
def timed(owner: Any, name: str, spent: dict[str, float], label: str) -> Iterator[None]:
    """Replace `owner.name` by a wrapper adding its wall seconds to spent[label]."""
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - start

    setattr(owner, name, wrapper)
    try:
        yield
    finally:
        setattr(owner, name, original)


PHASES = {
    "Runner": "set-up (network, workload, nemesis)",
    "run_guarded": "simulation (trace written as it runs)",
    "write": "writing history.jsonl",
    "summarize": "checking",
    "trace_hash": "trace hash",
    "print_summary": "summary table",
    "run_test": "whole in-process command",
}
"""What command_phases times: the function, and the phase it stands for."""


def command_phases(store: str) -> dict[str, float]:
    """Wall seconds of each phase of the `distlab test` command, run in this process
    (hash already pinned, imports done): perf_counter around the runner's phases."""
    import distlab.cli.run as run_cmd
    import distlab.runner as runner_mod
    from distlab.cli.commands import cli
    from distlab.history import History
    from distlab.runtime.sim.loop import VirtualLoop

    spent: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        owners = (runner_mod, VirtualLoop, History, runner_mod, runner_mod, run_cmd, run_cmd)
        for owner, (name, label) in zip(owners, PHASES.items(), strict=True):
            stack.enter_context(timed(owner, name, spent, label))
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
            cli.main([*COMMAND_ARGS, "-q", "--store", store], prog_name="distlab")
    spent["whole in-process command"] += spent["summary table"]
    return spent


def command_report(repeat: int) -> None:
    """The whole command as a subprocess (best of `repeat`), then its breakdown."""
    script = str(Path(sys.executable).parent / "distlab")
    with tempfile.TemporaryDirectory() as store:
        argv = [script, *COMMAND_ARGS, "-q", "--store", store]
        whole, whole_cpu = best_wall(argv, repeat)
        pinned, pinned_cpu = best_wall(argv, repeat, env=dict(os.environ, PYTHONHASHSEED="0"))
        start_first = best_wall([sys.executable, "-c", "import distlab.cli"], repeat)[0]
        start_all = best_wall([sys.executable, "-c", "import distlab.cli.commands"], repeat)[0]
        phases = [command_phases(store) for _ in range(repeat)]
    print(f"\nwhole command (a), best of {repeat}: distlab {' '.join(COMMAND_ARGS)}")
    print(f"  {whole:.3f} s wall, {COMMAND_SECONDS / whole:.1f}x real time (CPU {whole_cpu:.3f} s, "
          f"{COMMAND_SECONDS / whole_cpu:.1f}x)")
    print(f"  {pinned:.3f} s wall, {COMMAND_SECONDS / pinned:.1f}x (CPU {pinned_cpu:.3f} s) "
          "with PYTHONHASHSEED=0 already set: no re-exec")
    print("  where the time goes (best of each):")
    rows = [("first process: interpreter start, light imports, re-exec", start_first),
            ("interpreter start + imports of the CLI", start_all)]
    rows += [(label, min(p[label] for p in phases)) for label in PHASES.values()]
    for label, seconds in rows:
        print(f"    {label:58} {seconds:7.3f} s")
    env = "PYTHONDONTWRITEBYTECODE=1: imports compile modules whose .pyc is missing or stale" \
        if os.environ.get("PYTHONDONTWRITEBYTECODE") else "bytecode caching on"
    print(f"  ({env})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-command", action="store_true", help="Only the simulation loop scenarios.")
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"calibration: a Python loop of 10M additions (module level) takes {min(calibration() for _ in range(3)):.2f} s "
          f"(load average {load:.2f})\n")
    print(f"{'scenario':58} {'wall s':>8} {'sim s/wall s':>13} {'msgs/s':>10} {'msgs':>9}")
    for name, make in SCENARIOS.items():
        best = min((measure(make()) for _ in range(args.repeat)), key=lambda r: r[0])
        wall, sim, msgs = best
        print(f"{name:58} {wall:8.3f} {sim / wall:12.1f}x {msgs / wall:10.0f} {msgs:9d}")
    if not args.skip_command:
        command_report(args.repeat)


if __name__ == "__main__":
    main()
