"""Grades a hash join, `join(f0, f1, offsets0, offsets1)` (Talent Plan's Go course
homework): on seeded tables shaped as the course's r0, r1, r2, each of its seven cases
(and one where keys repeat on both sides) must give SUM(r0.col0) over the joined rows,
as a uint64, computed here without building the join; and small tables of its own whose
two-column keys run together when written without a separator."""

from __future__ import annotations

import importlib.util
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from distlab.systems.gocourse.hashjoin import CASES, JoinCase, write_tables


def _kit() -> Any:
    spec = importlib.util.spec_from_file_location("_mapreducer_kit", Path(__file__).resolve().parent.parent / "kit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kit = _kit()
MASK64 = (1 << 64) - 1
SCALE = 0.2  # 2,000, 1,000 and 100 rows: the course's shapes, seconds for any correct join
MANY_TO_MANY = JoinCase("r1", "r0", (3,), (1,), -1)
"""Not one of the course's seven: keys repeat on both sides (r1.col3 and r0.col1 share a
range), so the build side's hash table must keep every row of a key."""
ALL = (*CASES, MANY_TO_MANY)


def _rows(path: str) -> list[list[str]]:
    with open(path) as f:
        return [line.split(",") for line in f.read().splitlines() if line]


def expected(f0: str, f1: str, offsets0: tuple[int, ...], offsets1: tuple[int, ...]) -> int:
    """For each row of relation 1, relation 0's col0 summed over the rows with an equal
    key: the join's answer without building it, by counting relation 1's keys."""
    counts = Counter(tuple(row[i] for i in offsets1) for row in _rows(f1))
    return sum(int(row[0]) * counts[tuple(row[i] for i in offsets0)] for row in _rows(f0)) & MASK64


RUN_TOGETHER = "two-column keys whose digits run together"
"""Tables of our own: r0's key (1, 23) and r1's (12, 3) are different keys, though their
columns written one after the other are both 123; so are (4, 56) and (45, 6)."""
RUN_TOGETHER_ROWS = {
    "r0": ["5,1,23", "7,12,3", "11,4,56", "13,9,9", "17,1,23"],
    "r1": ["1,12,3", "2,45,6", "3,9,9", "4,1,23", "5,99,1"],
}


def scenarios() -> list[str]:
    return [case.describe() for case in ALL] + [RUN_TOGETHER]


def run(name: str, target: object, seed: int) -> str | None:
    if not callable(target):
        return f"{target!r} is not a function: the grader calls join(f0, f1, offsets0, offsets1)"
    case = next((c for c in ALL if c.describe() == name), JoinCase("r0", "r1", (1, 2), (1, 2), -1))
    with tempfile.TemporaryDirectory(prefix="distlab-join-") as tmp:
        if name == RUN_TOGETHER:
            tables = {}
            for table, lines in RUN_TOGETHER_ROWS.items():
                path = Path(tmp) / f"{table}.tbl"
                path.write_text("\n".join(lines) + "\n")
                tables[table] = str(path)
        else:
            tables = write_tables(tmp, seed, SCALE)
        f0, f1 = tables[case.left], tables[case.right]
        want = expected(f0, f1, case.offsets0, case.offsets1)
        call = f"join({case.left}.tbl, {case.right}.tbl, {list(case.offsets0)}, {list(case.offsets1)})"
        try:
            got = kit.call(call, target, f0, f1, list(case.offsets0), list(case.offsets1))
        except kit.Wrong as exc:
            return str(exc)
    if got != want:
        return (f"{call} returned {got!r}; expected {want} (SUM({case.left}.col0) over the rows of {name}, "
                "every matching pair counted" + ("; a key of several columns is the tuple of them, not "
                                                 "their text run together)" if name == RUN_TOGETHER else ")"))
    return None
