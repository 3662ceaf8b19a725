"""The ten most frequent URLs, three ways, each giving the course's answer text
(`URL: COUNT` lines, most frequent first, ties by URL):

- `sequential_top10`: one process counts every file (the baseline to check and race);
- `mr_top10`: two MapReduce rounds on distlab's coordinator and worker processes
  (`distlab mr`), with the apps in `mrapps` (`example=True`: the course's example apps);
- `parallel_top10`: the same two rounds without a framework: a process pool counts files
  into hash partitions on disk, then each partition's top ten is taken in parallel.

    python -m distlab.systems.gocourse.urltop10 [--size 1MB] [--how mr|parallel|sequential]
"""

from __future__ import annotations

import argparse
import os
import pickle
import shutil
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from distlab.systems.gocourse.datagen import (
    CASES,
    SIZES,
    format_top,
    generate_all,
    same_answer,
    size_label,
    top_n,
)
from distlab.systems.gocourse.mrapps import TOP_KEY, decode_top

APPS = "distlab.systems.gocourse.mrapps"


def count_file(path: str) -> Counter[str]:
    with open(path) as f:
        return Counter(f.read().split())


def sequential_top10(files: Iterable[str]) -> str:
    counts: Counter[str] = Counter()
    for path in files:
        with open(path) as f:
            counts.update(f.read().split())  # counted in C; merging Counters is a Python loop
    return format_top(top_n(counts))


def read_mr_answer(outputs: Iterable[str | Path]) -> str:
    """Round 2's `top10 [[url, count], ...]` line, as the course's answer text."""
    for path in outputs:
        for line in Path(path).read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == TOP_KEY:
                return format_top(decode_top(value))
    return ""


def mr_top10(files: list[str], work_dir: str | Path, workers: int = 2, n_reduce: int | None = None,
             example: bool = False, time_limit: float | None = 600.0) -> str:
    """Run both rounds as `distlab mr` jobs in `work_dir/round1` and `work_dir/round2`."""
    from distlab.systems.mapreduce.job import run_job

    work_dir = Path(work_dir)
    count_app, top_app = (f"{APPS}.example_count", f"{APPS}.example_top10") if example else \
        (f"{APPS}.urlcount", f"{APPS}.urltop10")
    first = run_job(count_app, files, workers, n_reduce or workers, work_dir / "round1",
                    time_limit=time_limit)
    second = run_job(top_app, [str(p) for p in first.outputs], workers, 1, work_dir / "round2",
                     time_limit=time_limit)
    return read_mr_answer(second.outputs)


def _partition(url: str, n: int) -> int:
    """Stable across processes (str hashes are salted per process)."""
    return zlib.crc32(url.encode()) % n


def _map_task(args: tuple[str, int, int, str]) -> None:
    """Count one file, split the counts by URL hash into n_reduce spill files. URLs seen
    once go as a plain list, so the reduce can count them in C (Counter.update of a list)
    instead of adding counts in a Python loop: with a million distinct URLs nearly all are
    singles, and with few distinct URLs the loop over the rest is short."""
    path, index, n_reduce, spill = args
    singles: list[list[str]] = [[] for _ in range(n_reduce)]
    multi: list[dict[str, int]] = [{} for _ in range(n_reduce)]
    for url, count in count_file(path).items():
        r = _partition(url, n_reduce)
        if count == 1:
            singles[r].append(url)
        else:
            multi[r][url] = count
    for r in range(n_reduce):
        tmp, final = os.path.join(spill, f"m{index}-r{r}.tmp"), os.path.join(spill, f"m{index}-r{r}")
        with open(tmp, "wb") as f:
            pickle.dump((singles[r], multi[r]), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, final)


def _reduce_task(args: tuple[int, int, str]) -> list[tuple[str, int]]:
    r, n_map, spill = args
    counts: Counter[str] = Counter()
    for m in range(n_map):
        with open(os.path.join(spill, f"m{m}-r{r}"), "rb") as f:
            singles, multi = pickle.load(f)
        counts.update(singles)
        get = counts.get
        for url, count in multi.items():
            counts[url] = get(url, 0) + count
    return top_n(counts)


def parallel_top10(files: list[str], processes: int | None = None, n_reduce: int | None = None,
                   pool: ProcessPoolExecutor | None = None) -> str:
    """Map (count each file, split by URL hash) then reduce (top ten per partition) on a
    process pool; the parent only merges the partitions' top tens."""
    processes = processes or os.cpu_count() or 1
    n_reduce = n_reduce or processes
    spill = tempfile.mkdtemp(prefix="urltop10-")
    own = pool is None
    pool = pool or ProcessPoolExecutor(processes)
    try:
        list(pool.map(_map_task, [(f, i, n_reduce, spill) for i, f in enumerate(files)]))
        merged: dict[str, int] = {}
        for part in pool.map(_reduce_task, [(r, len(files), spill) for r in range(n_reduce)]):
            merged.update(part)
        return format_top(top_n(merged))
    finally:
        if own:
            pool.shutdown()
        shutil.rmtree(spill, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m distlab.systems.gocourse.urltop10",
                                     description="Run the course's URL top-10 cases at one scale.")
    parser.add_argument("--size", default="1MB", choices=[size_label(s) for s, _ in SIZES])
    parser.add_argument("--how", default="mr", choices=("mr", "example", "parallel", "sequential"))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "mr_homework"),
                        help="where the cases are generated (kept for the next run)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    size, n_files = next((s, n) for s, n in SIZES if size_label(s) == args.size)
    failed = 0
    for index, case in enumerate(generate_all(args.data, size, n_files, args.seed)):
        start = time.perf_counter()
        if args.how in ("mr", "example"):
            with tempfile.TemporaryDirectory(prefix="urltop10-mr-") as work:
                got = mr_top10(case.files, work, args.workers, example=args.how == "example")
        elif args.how == "parallel":
            got = parallel_top10(case.files, args.workers)
        else:
            got = sequential_top10(case.files)
        cost = time.perf_counter() - start
        ok = same_answer(case.expected(), got)
        failed += not ok
        print(f"case{index} {CASES[index].name:16} {'PASS' if ok else 'FAIL'} "
              f"size={args.size} files={n_files} {cost:.2f} s")
        if not ok:
            print(f"  expected:\n{case.expected()}  got:\n{got}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
