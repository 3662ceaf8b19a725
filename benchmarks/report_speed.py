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
see a gossiping trace's figures. With --browser, that run's diagram is opened in headless
chromium (Debian's, through chromedriver: `make system-deps`) and the time until it is
interactive (its script has drawn and answers) is printed against issue 13's 3 s target,
best of --repeat, on a broadcast run of about 100,000 messages (the course's naive
gossiper, gossiper/multi-node's reference, on 25 nodes at 110 ops/s for 30 s).
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
GOSSIPER = Path(__file__).resolve().parent.parent / "distlab/tracks/gossiper/02-multi-node/reference.py"
"""A node that forwards every message to every neighbour: ~28 messages per operation on 25 nodes."""


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


BROWSER_TARGET_S = 3.0


def time_browser(run_dir: Path, repeat: int) -> tuple[float, float]:
    """(seconds until the diagram is interactive, seconds for a zoom's redraw), best of
    `repeat`, in a fresh headless chromium page each time."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "chromedriver"), options=opts)
    best_open = best_zoom = float("inf")
    try:
        for _ in range(repeat):
            driver.get("about:blank")
            start = time.perf_counter()
            driver.get((run_dir / "messages.html").as_uri())
            while not driver.execute_script("return !!(window.distlabDiagram && window.distlabDiagram.ready)"):
                time.sleep(0.01)
            best_open = min(best_open, time.perf_counter() - start)
            errors = driver.execute_script("return window.distlabDiagram.errors")
            if errors:
                sys.exit(f"the diagram reported errors: {errors}")
            zoom = driver.execute_async_script(
                "var done = arguments[arguments.length - 1], t = performance.now();"
                "window.distlabDiagram.zoomTo(1, 2);"
                "requestAnimationFrame(function () { requestAnimationFrame(function () {"
                " done(performance.now() - t); }); });")
            best_zoom = min(best_zoom, zoom / 1000)
    finally:
        driver.quit()
    return best_open, best_zoom


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--broadcast-rate", type=float, default=0.0)
    parser.add_argument("--browser", action="store_true",
                        help="Open the broadcast run's diagram in headless chromium (default rate: ~100k messages).")
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
        if args.browser:
            opts = TestOptions(workload="broadcast", bin=str(GOSSIPER), node_count=25, rate=110, time_limit=30,
                               seed=1, store=str(store))
            run_dir = run_test(opts).run_dir
            figures("broadcast (naive gossip), 25 nodes, 110 ops/s for 30 s", run_dir, time_report(run_dir, args.repeat))
            opened, zoomed = time_browser(run_dir, args.repeat)
            verdict = "under" if opened < BROWSER_TARGET_S else "OVER"
            print(f"  headless chromium: the diagram is interactive {opened:.2f} s after navigation "
                  f"({verdict} the {BROWSER_TARGET_S:g} s target); a zoom redraws in {zoomed * 1000:.0f} ms")
    finally:
        shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main()
