"""How long `distlab report` takes on a big run (issue 13's target: under 2 s).

    .venv/bin/python benchmarks/report_speed.py [--rate 1000] [--time-limit 30] [--repeat 3]
        [--broadcast-rate 0]

Records a unique-ids run on 5 nodes at --rate operations per second for --time-limit
simulated seconds (the simulator's example node; about 60,000 messages at the defaults),
then times `distlab report RUN_DIR` as a user runs it (a fresh process: interpreter start,
reading the trace and history, messages.html, the PNGs and report.html), best of
--repeat, since the machine is shared. Prints the time, the trace's size and the
diagram's, against Maelstrom's messages.svg, which stops drawing after 10,000 events.

With --broadcast-rate R, also a broadcast run on 5 nodes at R ops/s (grid topology), to
see a gossiping trace's figures (issue 13 also asks for a 100,000-message broadcast
diagram to become interactive in headless chromium within 3 s: measured by the browser
tests, not here).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from distlab.examples import example_path
from distlab.options import TestOptions
from distlab.runner import run_test

MAELSTROM_LIMIT = 10_000
"""Events after which Maelstrom's messages.svg stops drawing."""
TARGET_S = 2.0


def command() -> list[str]:
    """`distlab` as installed next to this interpreter, else `python -m distlab`."""
    script = Path(sys.executable).with_name("distlab")
    return [str(script)] if script.exists() else [sys.executable, "-m", "distlab"]


def record(store: Path, workload: str, rate: float, time_limit: float) -> Path:
    name = "unique_ids" if workload == "unique-ids" else workload
    opts = TestOptions(workload=workload, bin=str(example_path(name)), node_count=5, rate=rate,
                       time_limit=time_limit, seed=1, store=str(store))
    return run_test(opts).run_dir


def time_report(run_dir: Path, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run([*command(), "report", str(run_dir)], capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"distlab report failed: {proc.stderr.strip()}")
        best = min(best, elapsed)
    return best


def figures(label: str, run_dir: Path, seconds: float) -> None:
    trace = run_dir / "messages.jsonl"
    with open(trace, "rb") as f:
        lines = sum(1 for _ in f)
    sends = sum(1 for line in trace.read_bytes().splitlines() if b'"ev":"send"' in line)
    page = (run_dir / "messages.html").stat().st_size
    verdict = "under" if seconds < TARGET_S else "OVER"
    print(f"{label}: distlab report took {seconds:.2f} s ({verdict} the {TARGET_S:g} s target)")
    print(f"  {sends:,} messages ({lines:,} trace events, {trace.stat().st_size / 1e6:.1f} MB messages.jsonl); "
          f"messages.html {page / 1e6:.1f} MB, every message drawn")
    print(f"  Maelstrom's messages.svg stops after {MAELSTROM_LIMIT:,} events: this trace has "
          f"{lines / MAELSTROM_LIMIT:.1f}x that")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--broadcast-rate", type=float, default=0.0)
    args = parser.parse_args()
    store = Path(tempfile.mkdtemp(prefix="distlab-report-bench-"))
    try:
        run_dir = record(store, "unique-ids", args.rate, args.time_limit)
        figures(f"unique-ids, 5 nodes, {args.rate:g} ops/s for {args.time_limit:g} s",
                run_dir, time_report(run_dir, args.repeat))
        if args.broadcast_rate > 0:
            run_dir = record(store, "broadcast", args.broadcast_rate, args.time_limit)
            figures(f"broadcast, 5 nodes, {args.broadcast_rate:g} ops/s for {args.time_limit:g} s",
                    run_dir, time_report(run_dir, args.repeat))
    finally:
        shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main()
