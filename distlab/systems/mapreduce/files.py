"""The files a job leaves, named as 6.824 names them: `mr-X-Y` holds map task X's pairs
for reduce task Y (JSON lines), `mr-out-Y` reduce task Y's `key value` lines. Every file
is written to a temporary name and renamed, so a reader never sees half of one, and a
task run twice (after a timeout) just replaces a file with an identical one."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from itertools import groupby
from pathlib import Path

from distlab.systems.mapreduce.apps import App


def ihash(key: str) -> int:
    """FNV-1a (32 bits) of the key's UTF-8, masked positive: the partition function,
    stable across processes (Python's hash() is salted per process)."""
    h = 0x811C9DC5
    for byte in key.encode("utf-8", "surrogateescape"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h & 0x7FFFFFFF


def intermediate_name(map_task: int, reduce_task: int) -> str:
    return f"mr-{map_task}-{reduce_task}"


def output_name(reduce_task: int) -> str:
    return f"mr-out-{reduce_task}"


def write_atomically(path: str | Path, lines: Iterable[str]) -> None:
    """Write to a temporary file in the same directory, then rename over `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".mr-tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.writelines(lines)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_input(filename: str) -> str:
    return Path(filename).read_text(encoding="utf-8", errors="surrogateescape")


def run_map(app: App, map_task: int, filename: str, n_reduce: int) -> None:
    """Map one input file into its n_reduce intermediate files (all written, some empty)."""
    buckets: list[list[str]] = [[] for _ in range(n_reduce)]
    for key, value in app.map_fn(filename, read_input(filename)):
        buckets[ihash(key) % n_reduce].append(json.dumps([key, value]) + "\n")
    for reduce_task, lines in enumerate(buckets):
        write_atomically(intermediate_name(map_task, reduce_task), lines)


def reduce_lines(app: App, pairs: list[tuple[str, str]]) -> list[str]:
    """Group the pairs by key, in key order, and reduce each group to a `key value` line."""
    pairs.sort(key=lambda kv: kv[0])
    return [f"{key} {app.reduce_fn(key, [v for _, v in group])}\n"
            for key, group in groupby(pairs, key=lambda kv: kv[0])]


def run_reduce(app: App, reduce_task: int, n_map: int) -> None:
    """Reduce partition `reduce_task` of every map's output into mr-out-<reduce_task>."""
    pairs: list[tuple[str, str]] = []
    for map_task in range(n_map):
        with open(intermediate_name(map_task, reduce_task), encoding="utf-8",
                  errors="surrogateescape") as f:
            pairs.extend((k, v) for k, v in map(json.loads, f))
    write_atomically(output_name(reduce_task), reduce_lines(app, pairs))
