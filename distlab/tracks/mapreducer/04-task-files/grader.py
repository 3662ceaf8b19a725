"""Grades a worker's file handling: `run_map(map_fn, map_task, filename, n_reduce)` writes
map task X's intermediate pairs, `run_reduce(reduce_fn, reduce_task, n_map)` writes
mr-out-Y, both in the current folder. The grader runs a whole job through them in a
fresh folder and reads the mr-out-* files back as `key value` lines."""

from __future__ import annotations

import importlib.util
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distlab.systems.mapreduce.apps import letter_runs, wc
from distlab.systems.mapreduce.inputs import write_inputs


def _kit() -> Any:
    spec = importlib.util.spec_from_file_location("_mapreducer_kit", Path(__file__).resolve().parent.parent / "kit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kit = _kit()
Wrong = kit.Wrong
N_REDUCE = 3


def bigram_map(filename: str, contents: str) -> list[tuple[str, str]]:
    """Pairs of adjacent words as keys: keys with a space in them."""
    words = letter_runs(contents)
    return [(f"{a} {b}", "1") for a, b in zip(words, words[1:], strict=False)]


def count_reduce(key: str, values: list[str]) -> str:
    return str(len(values))


def _outputs(folder: Path) -> dict[str, str]:
    """{key: value} from mr-out-*; Wrong if a file is missing or a key is in two files."""
    got: dict[str, str] = {}
    where: dict[str, str] = {}
    for y in range(N_REDUCE):
        path = folder / f"mr-out-{y}"
        if not path.is_file():
            raise Wrong(f"mr-out-{y} was not written by run_reduce(reduce_fn, {y}, n_map): every reduce task "
                        "writes its output file, even an empty one")
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            key, _, value = line.rpartition(" ")
            if not key:
                raise Wrong(f"mr-out-{y} has the line {line!r}; expected 'key value'")
            if key in got and where[key] == f"mr-out-{y}":
                raise Wrong(f"the key {key!r} is twice in mr-out-{y}: a reduce task writes one line per key")
            if key in got:
                raise Wrong(f"the key {key!r} is in both {where[key]} and mr-out-{y}: each key must reach exactly "
                            "one reduce task (partition with a hash that is the same in every process, and read "
                            "back exactly the keys map_fn emitted)")
            got[key], where[key] = value, f"mr-out-{y}"
    return got


class WorkerDied(Exception):
    """Raised by the grader's reduce function: the worker died in the middle of the task."""


def _job(module: Any, map_fn: Callable[..., Any], reduce_fn: Callable[..., Any], files: list[str],
         folder: Path, rerun: bool, crash: bool = False) -> dict[str, str]:
    run_map, run_reduce = kit.function(module, "run_map"), kit.function(module, "run_reduce")
    for x, name in enumerate(files):
        kit.call(f"run_map(map_fn, {x}, {Path(name).name!r}, {N_REDUCE})", run_map, map_fn, x, name, N_REDUCE)
    if rerun:  # a task given to a second worker after a timeout: both runs complete
        kit.call(f"run_map(map_fn, 0, {Path(files[0]).name!r}, {N_REDUCE}) run a second time", run_map,
                 map_fn, 0, files[0], N_REDUCE)
    for y in range(N_REDUCE):
        kit.call(f"run_reduce(reduce_fn, {y}, {len(files)})", run_reduce, reduce_fn, y, len(files))
    if rerun:
        kit.call(f"run_reduce(reduce_fn, 1, {len(files)}) run a second time", run_reduce, reduce_fn, 1, len(files))
    if crash:  # a second run of reduce 1 whose worker dies halfway: mr-out-1 must stay whole
        calls = 0

        def dying_reduce(key: str, values: list[str]) -> str:
            nonlocal calls
            calls += 1
            if calls > 5:
                raise WorkerDied
            return str(reduce_fn(key, values))

        try:
            run_reduce(dying_reduce, 1, len(files))
        except WorkerDied:
            pass
        except Exception as exc:  # noqa: BLE001 - the learner's bug, as a sentence
            raise Wrong(f"run_reduce(reduce_fn, 1, {len(files)}) run a second time raised "
                        f"{type(exc).__name__}: {exc} when reduce_fn raised") from None
    leftovers = sorted(p.name for p in folder.iterdir() if p.name.startswith("mr-out") and
                       not re.fullmatch(r"mr-out-\d+", p.name))
    if leftovers:
        raise Wrong(f"the folder holds {leftovers[0]!r}, which looks like an output file: write to a temporary "
                    "name that does not start with mr-out and rename it to mr-out-Y when complete")
    return _outputs(folder)


def _run(name: str, target: object, seed: int) -> str | None:
    module = kit.module_of(target)
    before = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="distlab-taskfiles-") as tmp:
        inputs, work = Path(tmp) / "in", Path(tmp) / "job"
        work.mkdir()
        files = write_inputs(inputs, seed, words=500)
        map_fn, reduce_fn = (bigram_map, count_reduce) if name == "keys with spaces" else (wc.map_fn, wc.reduce_fn)
        expected = kit.run_job(map_fn, reduce_fn, files)
        after = {"tasks run twice": " after map task 0 and reduce task 1 each ran twice (as when a slow "
                 "worker's task is given to another)",
                 "a rerun dies halfway": " after reduce task 1, already done, ran again and its worker died "
                 "halfway (is mr-out-Y written under a temporary name and renamed only when complete?)"
                 }.get(name, "")
        os.chdir(work)
        try:
            got = _job(module, map_fn, reduce_fn, files, work, rerun=name == "tasks run twice",
                       crash=name == "a rerun dies halfway")
        except Wrong as exc:
            raise Wrong(f"{exc}{after}") from None
        finally:
            os.chdir(before)
    reason = kit.compare(expected, got, noun="key")
    return reason + after if reason else None


def scenarios() -> list[str]:
    return ["word count", "keys with spaces", "tasks run twice", "a rerun dies halfway"]


def run(name: str, target: object, seed: int) -> str | None:
    try:
        return _run(name, target, seed)
    except Wrong as exc:
        return str(exc)
