"""The course's join homework (a simplified SIGMOD 2018 contest): join two comma-separated
tables of integers on equal columns and return the sum of relation 0's first column over
the joined rows, as a uint64, i.e.

    SELECT SUM(r0.col0) FROM r0, r1 WHERE r0.c[a] = r1.c[x] AND r0.c[b] = r1.c[y] ...

Three ways, all with the same answer:

- `join_example`: the course's example: a hash table from key to relation 0's row numbers,
  probed with every row of relation 1 (the baseline);
- `join`: one process, but aggregated before joining: only SUM(col0) per key of relation 0
  and the number of rows per key of relation 1 matter, so the answer is the sum over keys
  of sum0 * count1, and neither side's rows are kept (the smaller aggregate is the table);
- `parallel_join`: the same on a process pool: each worker aggregates a line-aligned slice
  of both files into hash partitions, then each worker joins one partition.

The course ships three tables (r0: 10,000 rows of 2 columns, r1: 5,000 of 4, r2: 500 of 3)
and seven cases over them (`CASES`, with its expected sums). `write_tables` writes tables
of the same shapes from a seed (column 0 an increasing id, the others drawn from ranges like
the course's, so every case finds matches); point DISTLAB_TALENTPLAN_JOIN_T at a copy of
the course's `t/` folder to check the course's own sums."""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class JoinCase:
    left: str  # table names, r0 | r1 | r2
    right: str
    offsets0: tuple[int, ...]
    offsets1: tuple[int, ...]
    course_sum: int  # the answer on the course's own tables

    def describe(self) -> str:
        on = " and ".join(f"{self.left}.col{a} = {self.right}.col{b}"
                          for a, b in zip(self.offsets0, self.offsets1, strict=True))
        return f"{self.left} join {self.right} on {on}"


CASES: tuple[JoinCase, ...] = (
    JoinCase("r0", "r0", (0,), (1,), 0x16CBF2D),
    JoinCase("r0", "r1", (0,), (0,), 0xC1D73B),
    JoinCase("r0", "r1", (1,), (1,), 0x33010),
    JoinCase("r0", "r2", (0,), (0,), 0x1F235),
    JoinCase("r0", "r1", (0, 1), (0, 1), 0),
    JoinCase("r1", "r2", (0,), (0,), 0x18CDA),
    JoinCase("r2", "r2", (0, 1), (0, 1), 0x5B385),
)
"""The course's seven test cases."""

BENCH_CASE = JoinCase("r0", "r2", (0,), (1,), -1)
"""The course's benchmark query: r0 join r2 on r0.col0 = r2.col1 (no published sum)."""

ROWS = {"r0": 10_000, "r1": 5_000, "r2": 500}
"""The course's table sizes (rows); the columns are 2, 4 and 3."""


def write_tables(directory: str | Path, seed: int = 1, scale: float = 1.0) -> dict[str, str]:
    """r0.tbl, r1.tbl and r2.tbl shaped as the course's, `scale` times the rows (small
    scales for brute-force checks, large ones for benchmarks); returns {name: path}."""
    rng = random.Random(seed)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    n0, n1, n2 = (max(1, int(ROWS[t] * scale)) for t in ("r0", "r1", "r2"))

    def ids(n: int, start: int) -> list[int]:
        return sorted(rng.sample(range(start, start + 3 * n), n))

    def between(lo: int, hi: int) -> int:
        return rng.randint(lo, hi)

    tables = {
        "r0": [(i, between(n0 * 44 // 100, n0 * 105 // 100)) for i in ids(n0, 1)],
        "r1": [(i, between(1_800, 1_067 * n0), between(150, 940_000),
                between(n0 * 56 // 100, n0 * 107 // 100)) for i in ids(n1, 1)],
        "r2": [(i, between(10, 940_000), between(3_500, 10_660_000)) for i in ids(n2, 2)],
    }
    paths = {}
    for name, rows in tables.items():
        path = directory / f"{name}.tbl"
        path.write_text("\n".join(",".join(map(str, row)) for row in rows) + "\n")
        paths[name] = str(path.resolve())
    return paths


def read_table(path: str) -> list[list[str]]:
    with open(path) as f:
        return [line.split(",") for line in f.read().splitlines() if line]


Key = str | tuple[str, ...]


def _key(row: Sequence[str], offsets: Sequence[int]) -> tuple[str, ...]:
    return tuple(row[i] for i in offsets)


def _key_getter(offsets: Sequence[int]) -> Callable[[Sequence[str]], Key]:
    """A row's join key: the field itself for one column, a tuple for several (itemgetter's
    C loop, not a Python one, as this runs once per row)."""
    return itemgetter(*offsets)


def join_example(f0: str, f1: str, offsets0: Sequence[int], offsets1: Sequence[int]) -> int:
    """The course's example: relation 0's row numbers by key, probed with relation 1."""
    tbl0, tbl1 = read_table(f0), read_table(f1)
    table: defaultdict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, row in enumerate(tbl0):
        table[_key(row, offsets0)].append(i)
    total = 0
    for row in tbl1:
        for i in table.get(_key(row, offsets1), ()):
            total += int(tbl0[i][0])
    return total & MASK64


def _sums(lines: Iterable[str], offsets: Sequence[int]) -> dict[Key, int]:
    key = _key_getter(offsets)
    sums: defaultdict[Key, int] = defaultdict(int)
    for line in lines:
        if line:
            row = line.split(",")
            sums[key(row)] += int(row[0])
    return sums


def _counts(lines: Iterable[str], offsets: Sequence[int]) -> Counter[Key]:
    return Counter(map(_key_getter(offsets), (line.split(",") for line in lines if line)))


def _combine(sums: dict[Key, int], counts: dict[Key, int]) -> int:
    if len(counts) < len(sums):
        return sum(n * sums.get(k, 0) for k, n in counts.items())
    return sum(s * counts.get(k, 0) for k, s in sums.items())


def join(f0: str, f1: str, offsets0: Sequence[int], offsets1: Sequence[int]) -> int:
    """One process, aggregating each side by key before the join."""
    with open(f0) as a, open(f1) as b:
        sums = _sums(a.read().splitlines(), offsets0)
        counts = _counts(b.read().splitlines(), offsets1)
    return _combine(sums, counts) & MASK64


def _partition(key: Key, n: int) -> int:
    """Stable across processes (str hashes are salted per process)."""
    return zlib.crc32((key if isinstance(key, str) else ",".join(key)).encode()) % n


def _line_slices(path: str, n: int) -> list[tuple[int, int]]:
    """n byte ranges covering the file, each starting at a line's start."""
    size = os.path.getsize(path)
    cuts = [0]
    with open(path, "rb") as f:
        for i in range(1, n):
            f.seek(max(size * i // n, cuts[-1]))
            if f.tell() > 0:
                f.seek(f.tell() - 1)
                f.readline()  # to the start of the next line
            cuts.append(min(f.tell(), size))
    cuts.append(size)
    return [(cuts[i], cuts[i + 1]) for i in range(n)]


def _read_slice(path: str, lo: int, hi: int) -> list[str]:
    with open(path, "rb") as f:
        f.seek(lo)
        return f.read(hi - lo).decode().splitlines()


def _aggregate_task(args: tuple[str, str, Sequence[int], Sequence[int], tuple[int, int],
                                 tuple[int, int], int, str, int]) -> None:
    f0, f1, offsets0, offsets1, slice0, slice1, n_parts, spill, index = args
    import pickle

    sums = _sums(_read_slice(f0, *slice0), offsets0)
    counts = _counts(_read_slice(f1, *slice1), offsets1)
    parts: list[tuple[dict, dict]] = [({}, {}) for _ in range(n_parts)]
    for key, value in sums.items():
        parts[_partition(key, n_parts)][0][key] = value
    for key, value in counts.items():
        parts[_partition(key, n_parts)][1][key] = value
    for p, part in enumerate(parts):
        tmp = os.path.join(spill, f"a{index}-p{p}.tmp")
        with open(tmp, "wb") as f:
            pickle.dump(part, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, os.path.join(spill, f"a{index}-p{p}"))


def _join_task(args: tuple[int, int, str]) -> int:
    import pickle

    p, n_tasks, spill = args
    sums: defaultdict[Key, int] = defaultdict(int)
    counts: Counter[Key] = Counter()
    for index in range(n_tasks):
        with open(os.path.join(spill, f"a{index}-p{p}"), "rb") as f:
            part_sums, part_counts = pickle.load(f)
        for key, value in part_sums.items():
            sums[key] += value
        counts.update(part_counts)
    return _combine(sums, counts)


def parallel_join(f0: str, f1: str, offsets0: Sequence[int], offsets1: Sequence[int],
                  workers: int | None = None, pool: ProcessPoolExecutor | None = None) -> int:
    """Aggregate slices of both files into hash partitions in parallel, then join each
    partition in parallel; the parent only adds the partitions' sums."""
    workers = workers or os.cpu_count() or 1
    spill = tempfile.mkdtemp(prefix="hashjoin-")
    own = pool is None
    pool = pool or ProcessPoolExecutor(workers)
    try:
        slices0, slices1 = _line_slices(f0, workers), _line_slices(f1, workers)
        list(pool.map(_aggregate_task, [(f0, f1, tuple(offsets0), tuple(offsets1), slices0[i],
                                         slices1[i], workers, spill, i) for i in range(workers)]))
        return sum(pool.map(_join_task, [(p, workers, spill) for p in range(workers)])) & MASK64
    finally:
        if own:
            pool.shutdown()
        shutil.rmtree(spill, ignore_errors=True)


def nested_loop(f0: str, f1: str, offsets0: Sequence[int], offsets1: Sequence[int]) -> int:
    """Every pair of rows compared: the reference for small tables."""
    tbl0, tbl1 = read_table(f0), read_table(f1)
    return sum(int(a[0]) for a in tbl0 for b in tbl1
               if _key(a, offsets0) == _key(b, offsets1)) & MASK64


def main(argv: list[str] | None = None) -> int:
    """Run the seven cases: on the course's tables (`--tables DIR`, its t/ folder) against
    its published sums, else on generated tables against the course's example join."""
    import argparse
    import sys
    import time

    parser = argparse.ArgumentParser(prog="python -m distlab.systems.gocourse.hashjoin",
                                     description=main.__doc__)
    parser.add_argument("--tables", default=os.environ.get("DISTLAB_TALENTPLAN_JOIN_T"),
                        help="a folder with r0.tbl, r1.tbl, r2.tbl (the course's t/)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hashjoin-tables-") as tmp:
        course = bool(args.tables)
        paths = ({t: str(Path(args.tables) / f"{t}.tbl") for t in ROWS} if course
                 else write_tables(tmp, args.seed))
        failed = 0
        for case in CASES:
            call = (paths[case.left], paths[case.right], case.offsets0, case.offsets1)
            want = case.course_sum if course else join_example(*call)
            start = time.perf_counter()
            got = parallel_join(*call, workers=args.workers)
            cost = time.perf_counter() - start
            failed += got != want
            print(f"{case.describe():60} {got:>14} {'PASS' if got == want else f'FAIL (want {want})'}"
                  f" {cost:.3f} s")
    print("the course's tables and sums" if course else
          "generated tables (--tables DIR for the course's own), checked against the example join",
          file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
