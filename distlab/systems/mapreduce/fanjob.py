"""A MapReduce job whose map and reduce tasks run through distlab.fanout: on a Dask
cluster (`distlab mr --scheduler dask|ADDRESS`) or this machine's processes
(`--scheduler local`), instead of distlab's 6.824 coordinator and workers.

What this path guarantees, and what it leaves to Dask:

- The output equals the sequential reference's (and the coordinator's): map task X
  partitions its pairs by ihash(key) % R, reduce task Y groups partition Y of every map
  in key order, and `DIR/mr-out-Y` holds its `key value` lines.
- This process reads the inputs and writes every output, once, by atomic rename; the
  intermediate pairs travel through Dask, so the workers need no shared filesystem (only
  distlab, and the application's module).
- A task is not run exactly once: Dask re-runs the tasks of a lost worker (and a worker
  without a nanny is not replaced), so the 6.824 apps that count runs, time workers or
  crash them (jobcount, mtiming, rtiming, early_exit, crash) are refused here: they test
  a coordinator, which this path does not have.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distlab.fanout import FanoutError, run_all
from distlab.systems.mapreduce.apps import AppError, load
from distlab.systems.mapreduce.files import (
    ihash,
    intermediate_name,
    output_name,
    read_input,
    reduce_lines,
    write_atomically,
)
from distlab.systems.mapreduce.job import clean

COORDINATOR_APPS = ("jobcount", "mtiming", "rtiming", "early_exit", "crash")
"""6.824's test apps that observe the coordinator (runs, parallel workers, crashes)."""

Pairs = list[tuple[str, str]]


class TaskFailed(Exception):
    """The application raised in a map or reduce task: the job stops (exit 1), naming it."""


@dataclass(frozen=True)
class MapTask:
    app: str
    index: int
    filename: str
    contents: str
    n_reduce: int
    time_scale: float


@dataclass(frozen=True)
class ReduceTask:
    app: str
    index: int
    pairs: Pairs
    time_scale: float


@dataclass
class FannedResult:
    outputs: list[Path]
    seconds: float
    map_runs: int
    reduce_runs: int


def check_app(app: str) -> None:
    """AppError for an app that needs the coordinator's semantics."""
    if Path(app).stem in COORDINATOR_APPS:
        raise AppError(f"{app} tests 6.824's coordinator (task runs, worker timing, crashes), "
                       "which --scheduler does not use; run it without --scheduler")


def run_map(task: MapTask) -> list[Pairs]:
    """On a worker: one input's pairs, split into n_reduce partitions."""
    os.environ["DISTLAB_MR_TIME_SCALE"] = str(task.time_scale)
    buckets: list[Pairs] = [[] for _ in range(task.n_reduce)]
    for key, value in load(task.app).map_fn(task.filename, task.contents):
        buckets[ihash(key) % task.n_reduce].append((key, value))
    return buckets


def run_reduce(task: ReduceTask) -> list[str]:
    """On a worker: one partition's `key value` lines, in key order."""
    os.environ["DISTLAB_MR_TIME_SCALE"] = str(task.time_scale)
    return reduce_lines(load(task.app), list(task.pairs))


def run_fanned(app: str, files: list[str], n_reduce: int, out_dir: Path, *, scheduler: str,
               workers: int, time_scale: float = 1.0, keep_intermediate: bool = False) -> FannedResult:
    """Run the job's R reduce tasks after its maps, each phase fanned out; write
    DIR/mr-out-*. FanoutError when the scheduler cannot be used, AppError for a
    coordinator-only app, TaskFailed when the application raised."""
    check_app(app)
    start = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    clean(out_dir)
    maps = [MapTask(app, i, f, read_input(f), n_reduce, time_scale) for i, f in enumerate(files)]
    partitions = _phase("map", run_map, maps, scheduler, workers)
    if keep_intermediate:
        for x, buckets in enumerate(partitions):
            for y, pairs in enumerate(buckets):
                write_atomically(out_dir / intermediate_name(x, y),
                                 (json.dumps([k, v]) + "\n" for k, v in pairs))
    reduces = [ReduceTask(app, y, [kv for buckets in partitions for kv in buckets[y]], time_scale)
               for y in range(n_reduce)]
    del partitions
    outputs = []
    for y, lines in enumerate(_phase("reduce", run_reduce, reduces, scheduler, workers)):
        path = out_dir / output_name(y)
        write_atomically(path, lines)
        outputs.append(path)
    return FannedResult(outputs, time.perf_counter() - start, len(maps), len(reduces))


def _phase(name: str, fn: Callable[[Any], Any], tasks: list[Any], scheduler: str, workers: int) -> list[Any]:
    """One phase's results; an application that raised becomes a TaskFailed line."""
    try:
        return run_all(fn, tasks, scheduler=scheduler, workers=workers)
    except (FanoutError, AppError):
        raise
    except Exception as exc:
        text = (str(exc).strip().splitlines() or [""])[0]
        raise TaskFailed(f"a {name} task failed: {type(exc).__name__}: {text}") from exc
