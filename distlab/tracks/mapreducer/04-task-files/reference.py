"""A worker's files, named as 6.824 names them: map task X writes mr-X-Y for each reduce
task Y (JSON lines [key, value]); reduce task Y reads mr-*-Y and writes mr-out-Y
(`key value` lines). Every file is written under a temporary name and renamed when
complete, so a task run twice replaces a file with an identical one."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from itertools import groupby

MapFn = Callable[[str, str], list[tuple[str, str]]]
ReduceFn = Callable[[str, list[str]], str]


def ihash(key: str) -> int:
    """FNV-1a, 32 bits, masked to 31: the same in every worker process."""
    h = 0x811C9DC5
    for byte in key.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h & 0x7FFFFFFF


def write_atomically(path: str, lines: Iterable[str]) -> None:
    """Write a temporary file beside `path`, then rename it over `path` (atomic on POSIX)."""
    fd, tmp = tempfile.mkstemp(dir=".", prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.writelines(lines)
    os.replace(tmp, path)


def run_map(map_fn: MapFn, map_task: int, filename: str, n_reduce: int) -> None:
    """Map one input file into mr-<map_task>-0 .. mr-<map_task>-<n_reduce-1>, all written."""
    with open(filename, encoding="utf-8") as f:
        contents = f.read()
    buckets: list[list[str]] = [[] for _ in range(n_reduce)]
    for key, value in map_fn(filename, contents):
        buckets[ihash(key) % n_reduce].append(json.dumps([key, value]) + "\n")
    for y, lines in enumerate(buckets):
        write_atomically(f"mr-{map_task}-{y}", lines)


def run_reduce(reduce_fn: ReduceFn, reduce_task: int, n_map: int) -> None:
    """Read mr-0-Y .. mr-<n_map-1>-Y, group by key in key order, write mr-out-Y."""
    pairs: list[tuple[str, str]] = []
    for x in range(n_map):
        with open(f"mr-{x}-{reduce_task}", encoding="utf-8") as f:
            pairs.extend((k, v) for k, v in map(json.loads, f))
    pairs.sort(key=lambda kv: kv[0])
    lines = [f"{key} {reduce_fn(key, [v for _, v in group])}\n"
             for key, group in groupby(pairs, key=lambda kv: kv[0])]
    write_atomically(f"mr-out-{reduce_task}", lines)
