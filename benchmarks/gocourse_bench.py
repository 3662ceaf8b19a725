"""Talent Plan's Go course homework in Python, timed: each parallel version against its
single-process baseline and against the tool a user would pick instead.

    .venv/bin/python benchmarks/gocourse_bench.py [--only top10,sort,join]
        [--size 1MB] [--sort-n 16777216] [--join-scale 1,100] [--repeat 3]

- top10: the course's eleven URL cases at one scale (1 MB in 5 files by default; 10MB,
  100MB... as the course's). Baseline: one process counting every file. Against: two
  `distlab mr` rounds (coordinator and worker processes; our apps, then the course's
  example apps), the direct process-pool version, DuckDB and Polars.
- sort: the course's 16M int64 (`1 << 24`). Baseline: one list sort (as the course races
  sort.Slice). Against: the parallel merge sort and numpy.sort.
- join: the course's benchmark query, r0 join r2 on r0.col0 = r2.col1, and its heaviest
  case (r0 join r0 on r0.col0 = r0.col1), on tables of the course's shapes and 100 times
  larger. Baseline: the course's example hash join. Against: the aggregating join in one
  process and on a pool, DuckDB and Polars.

Times are the best of --repeat runs and include reading the input files and starting any
processes. "x base" is the baseline's time over this one's (above 1: faster); "x tool" is
this one's time over the fastest of numpy/DuckDB/Polars (above 1: slower). numpy, duckdb and
polars are optional (`pip install -e '.[bench]'`); a missing one is skipped with a line.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from distlab.systems.gocourse import datagen, hashjoin, mergesort, urltop10


def optional(name: str) -> Any:
    try:
        return __import__(name)
    except ImportError:
        print(f"  ({name} not installed: its comparison is skipped; pip install -e '.[bench]')")
        return None


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def table(title: str, rows: list[tuple[str, float]], base: str, tools: list[str]) -> None:
    """Print one block: name, seconds, x base, x tool."""
    times = dict(rows)
    tool_times = [times[t] for t in tools if t in times]
    fastest_tool = min(tool_times) if tool_times else None
    print(f"\n{title}")
    print(f"  {'':34} {'seconds':>9} {'x base':>8} {'x tool':>8}")
    for name, secs in rows:
        vs_base = times[base] / secs if secs else float("inf")
        vs_tool = f"{secs / fastest_tool:8.3g}" if fastest_tool else f"{'-':>8}"
        print(f"  {name:34} {secs:9.3f} {vs_base:8.3g} {vs_tool}")


def machine() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return (f"machine: {os.cpu_count()} cores, {platform.machine()}, Python "
            f"{platform.python_version()}, load average {load[0]:.1f} at start "
            f"(a shared machine: figures move with the load)")


def top10_duckdb(duckdb: Any, workers: int, files: list[str]) -> str:
    con = duckdb.connect()
    con.execute(f"SET threads = {workers}")
    rows = con.execute(
        "SELECT url, count(*) AS n FROM read_csv(?, header = false, delim = '\t', "
        "quote = '', escape = '', columns = {'url': 'VARCHAR'}) "
        "GROUP BY url ORDER BY n DESC, url LIMIT 10", [files]).fetchall()
    con.close()
    return datagen.format_top(rows)


def top10_polars(polars: Any, files: list[str]) -> str:
    frame = (polars.scan_csv(files, has_header=False, new_columns=["url"], separator="\t",
                             quote_char=None)
             .group_by("url").len()
             .sort(["len", "url"], descending=[True, False]).head(10).collect())
    return datagen.format_top(frame.iter_rows())


def bench_top10(size_label: str, repeat: int, workers: int, data: Path,
                example: bool = True) -> None:
    size, n_files = next((s, n) for s, n in datagen.SIZES if datagen.size_label(s) == size_label)
    print(f"\n== URL top-10: the course's 11 cases at {size_label} in {n_files} files "
          f"({workers} workers) ==")
    duckdb, polars = optional("duckdb"), optional("polars")
    cases = datagen.generate_all(data, size, n_files)
    totals: dict[str, float] = {}
    per_case: list[str] = []

    ways: list[tuple[str, Callable[[list[str], str], str]]] = [
        ("one process (baseline)", lambda files, work: urltop10.sequential_top10(files)),
        ("process pool", lambda files, work: urltop10.parallel_top10(files, workers)),
        ("distlab mr, combining apps", lambda files, work: urltop10.mr_top10(files, work, workers)),
    ]
    if example:
        ways.append(("distlab mr, course example apps",
                     lambda files, work: urltop10.mr_top10(files, work, workers, example=True)))
    if duckdb:
        ways.append(("DuckDB", lambda files, work: top10_duckdb(duckdb, workers, files)))
    if polars:
        ways.append(("Polars", lambda files, work: top10_polars(polars, files)))
    for index, case in enumerate(cases):
        line = [f"  case{index:<2} {case.spec.name:16}"]
        for name, fn in ways:
            with tempfile.TemporaryDirectory(prefix="gocourse-mr-") as work:
                secs, got = best(partial(fn, case.files, work), 1 if "mr" in name else repeat)
            if not datagen.same_answer(case.expected(), got):
                raise SystemExit(f"{name} gave a wrong answer on case{index}:\n{got}")
            totals[name] = totals.get(name, 0.0) + secs
            line.append(f"{secs:7.3f}")
        per_case.append(" ".join(line))
    print("  per case, seconds: " + " | ".join(name for name, _ in ways))
    print("\n".join(per_case))
    table(f"  all 11 cases, total ({size_label}), every answer checked against the course's result",
          list(totals.items()), "one process (baseline)", ["DuckDB", "Polars"])


def bench_sort(n: int, repeat: int, workers: int) -> None:
    print(f"\n== merge sort: {n} int64 ({workers} workers) ==")
    numpy = optional("numpy")
    values = mergesort.random_int64(n, seed=1)
    rows: list[tuple[str, float]] = []
    secs, want = best(lambda: mergesort.sequential_sort(values), repeat)
    rows.append(("one list sort (baseline)", secs))
    secs, got = best(lambda: mergesort.parallel_sort(values, workers), repeat)
    assert got == want, "the parallel sort disagrees with sorted()"
    rows.append(("parallel merge sort", secs))
    del got
    if numpy:
        src = numpy.frombuffer(values, dtype=numpy.int64)
        secs, got = best(lambda: numpy.sort(src), repeat)
        assert got.tobytes() == want.tobytes(), "numpy disagrees"
        rows.append(("numpy.sort", secs))
    table("  (each from the same unsorted array)", rows, "one list sort (baseline)", ["numpy.sort"])


def _columns(path: str) -> list[str]:
    with open(path) as f:
        return [f"c{i}" for i in range(len(f.readline().split(",")))]


def join_duckdb(duckdb: Any, workers: int, case: hashjoin.JoinCase, f0: str, f1: str) -> int:
    on = " AND ".join(f"a.column{x} = b.column{y}"
                      for x, y in zip(case.offsets0, case.offsets1, strict=True))
    con = duckdb.connect()
    con.execute(f"SET threads = {workers}")
    (total,) = con.execute("SELECT coalesce(sum(a.column0), 0) FROM read_csv(?, header = false) a "
                           f"JOIN read_csv(?, header = false) b ON {on}", [f0, f1]).fetchone()
    con.close()
    return int(total) & hashjoin.MASK64


def join_polars(polars: Any, case: hashjoin.JoinCase, f0: str, f1: str) -> int:
    a = polars.scan_csv(f0, has_header=False, new_columns=_columns(f0))
    b = polars.scan_csv(f1, has_header=False, new_columns=_columns(f1))
    joined = a.join(b, how="inner", left_on=[f"c{x}" for x in case.offsets0],
                    right_on=[f"c{y}" for y in case.offsets1])
    total = joined.select(polars.col("c0").sum()).collect().item()
    return int(total or 0) & hashjoin.MASK64


def bench_join_case(case: hashjoin.JoinCase, paths: dict[str, str], repeat: int, workers: int,
                    duckdb: Any, polars: Any) -> None:
    f0, f1 = paths[case.left], paths[case.right]
    args = (f0, f1, case.offsets0, case.offsets1)
    ways: list[tuple[str, Callable[[], int]]] = [
        ("course example (baseline)", lambda: hashjoin.join_example(*args)),
        ("aggregating join, one process", lambda: hashjoin.join(*args)),
        ("aggregating join, process pool", lambda: hashjoin.parallel_join(*args, workers=workers)),
    ]
    if duckdb:
        ways.append(("DuckDB", lambda: join_duckdb(duckdb, workers, case, f0, f1)))
    if polars:
        ways.append(("Polars", lambda: join_polars(polars, case, f0, f1)))
    rows: list[tuple[str, float]] = []
    want = None
    for name, fn in ways:
        secs, got = best(fn, repeat)
        want = got if want is None else want
        if got != want:
            raise SystemExit(f"{name} gives {got} for {case.describe()}, the baseline {want}")
        rows.append((name, secs))
    table(f"  {case.describe()} (sum {want})", rows, "course example (baseline)",
          ["DuckDB", "Polars"])


def bench_join(scales: list[float], repeat: int, workers: int, root: Path) -> None:
    duckdb, polars = optional("duckdb"), optional("polars")
    for scale in scales:
        paths = hashjoin.write_tables(root / f"scale{scale:g}", seed=1, scale=scale)
        rows_note = ", ".join(f"{t} {max(1, int(n * scale))}" for t, n in hashjoin.ROWS.items())
        print(f"\n== hash join: tables of the course's shapes x{scale:g} ({rows_note} rows; "
              f"{workers} workers) ==")
        for case in (hashjoin.BENCH_CASE, hashjoin.CASES[0]):
            bench_join_case(case, paths, repeat, workers, duckdb, polars)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="top10,sort,join")
    parser.add_argument("--size", default="1MB",
                        choices=[datagen.size_label(s) for s, _ in datagen.SIZES])
    parser.add_argument("--sort-n", type=int, default=mergesort.COURSE_N)
    parser.add_argument("--join-scale", default="1,100")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-example", action="store_true",
                        help="top10: leave out the course's example apps (slow at 100MB and up)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "mr_homework"),
                        help="where the URL cases are generated and kept for the next run")
    args = parser.parse_args()
    only = set(args.only.split(","))
    print(machine())
    if "top10" in only:
        bench_top10(args.size, args.repeat, args.workers, Path(args.data), not args.no_example)
    if "sort" in only:
        bench_sort(args.sort_n, 1 if args.sort_n > 1 << 22 else args.repeat, args.workers)
    if "join" in only:
        with tempfile.TemporaryDirectory(prefix="gocourse-join-") as root:
            bench_join([float(s) for s in args.join_scale.split(",")], args.repeat,
                       args.workers, Path(root))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
