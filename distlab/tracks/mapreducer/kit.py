"""Shared by the MapReducer track's graders: seeded inputs, a small in-process MapReduce
to run a learner's map and reduce functions, differences said in the learner's terms
("word 'été' counted 3 times, expected 4"), and 6.824's checks (distlab mr-test) run on a
learner's coordinator or worker program.

Not a task (no task.toml here), so the catalogue skips it; each grader loads it by path
with its own `_kit()` so the staging copy and the installed copy each use their own."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import sysconfig
import traceback
from collections.abc import Callable, Iterator
from itertools import groupby
from pathlib import Path
from types import ModuleType
from typing import Any

from distlab.systems.mapreduce.files import ihash
from distlab.systems.mapreduce.mrtest import OWN_COORDINATOR, OWN_WORKER, Settings, run_checks
from distlab.tracks.procgrade import PYTHON, learner_file

HERE = str(Path(__file__).resolve().parent)
LIBRARY = tuple(sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platstdlib"))
STRAGGLER_APP = str(Path(__file__).resolve().parent / "straggler_app.py")


class Wrong(Exception):
    """The learner's code answered wrongly; the message is the sentence shown."""


def module_of(target: object) -> ModuleType:
    """The learner's module, from the one object the grader was given."""
    module = sys.modules.get(getattr(target, "__module__", "") or "")
    if module is None:
        raise Wrong(f"cannot tell which file defines {target!r}")
    return module


def function(module: ModuleType, name: str) -> Callable[..., Any]:
    f = getattr(module, name, None)
    if not callable(f):
        raise Wrong(f"your file defines no function {name}()")
    return f  # type: ignore[no-any-return]


def call(what: str, f: Callable[..., Any], *args: Any) -> Any:
    """Call the learner's function; what it raised, as one sentence at the learner's line."""
    try:
        return f(*args)
    except Wrong:
        raise
    except Exception as exc:  # noqa: BLE001 - the learner's bug, reported as a sentence
        frames = [fr for fr in traceback.extract_tb(exc.__traceback__)
                  if not fr.filename.startswith(HERE) and not fr.filename.startswith(LIBRARY)]
        where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
        raise Wrong(f"{what} raised {type(exc).__name__}: {exc}{where}") from None


def pairs_of(what: str, got: Any) -> list[tuple[str, str]]:
    """The pairs a map function returned, checked to be (str, str)."""
    try:
        pairs = list(got)
    except TypeError:
        raise Wrong(f"{what} returned {type(got).__name__}; expected a list of (key, value) pairs") from None
    for pair in pairs:
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise Wrong(f"{what} returned {pair!r} among its pairs; expected (key, value) tuples")
        if not isinstance(pair[0], str) or not isinstance(pair[1], str):
            raise Wrong(f"{what} returned the pair {tuple(pair)!r}; keys and values are strings "
                        "(they travel in files between processes)")
    return [(k, v) for k, v in pairs]


def run_job(map_fn: Callable[..., Any], reduce_fn: Callable[..., Any], files: list[str],
            n_reduce: int = 1, on_partition: Callable[[int, list[tuple[str, str]]], None] | None = None
            ) -> dict[str, str]:
    """A MapReduce job in this process: map every file, partition by ihash, sort and group
    each partition, reduce each key; {key: reduce output}. `on_partition` sees each
    partition's pairs before reducing (for graders that look at what a reducer receives)."""
    partitions: list[list[tuple[str, str]]] = [[] for _ in range(n_reduce)]
    for name in files:
        contents = Path(name).read_text(encoding="utf-8")
        what = f"map_fn({Path(name).name!r}, ...)"
        for key, value in pairs_of(what, call(what, map_fn, name, contents)):
            partitions[ihash(key) % n_reduce].append((key, value))
    result: dict[str, str] = {}
    for index, pairs in enumerate(partitions):
        if on_partition:
            on_partition(index, pairs)
        pairs.sort(key=lambda kv: kv[0])
        for key, group in groupby(pairs, key=lambda kv: kv[0]):
            values = [v for _, v in group]
            what = f"reduce_fn({key!r}, [{len(values)} values])"
            out = call(what, reduce_fn, key, values)
            if not isinstance(out, str):
                raise Wrong(f"{what} returned {out!r}; expected a string (it becomes the line 'key value')")
            result[key] = out
    return result


def compare(expected: dict[str, str], got: dict[str, str], noun: str = "word",
            verb: str = "counted", unit: str = " times") -> str | None:
    """None if equal, else the first difference (in key order) as a sentence."""

    def amount(value: str) -> str:
        return f"{value}{' time' if unit == ' times' and value == '1' else unit}"

    for key in sorted(expected):
        if key not in got:
            return f"{noun} {key!r} is missing from the output; expected it {verb} {amount(expected[key])}"
        if got[key] != expected[key]:
            return f"{noun} {key!r} {verb} {amount(got[key])}, expected {expected[key]}"
    extra = sorted(set(got) - set(expected))
    if extra:
        return (f"{noun} {extra[0]!r} is in the output ({verb} {amount(got[extra[0]])}) but is not a {noun} "
                f"of the input ({len(extra)} such keys)")
    return None


FAST = Settings(time_scale=0.1, task_timeout=0.5, check_timeout=20.0)
"""6.824's timings at a tenth (apps' sleeps) and a 0.5 s task timeout: every check in seconds."""


def mr_check(name: str, target: object, role: str, settings: Settings = FAST, seed: int = 1) -> str | None:
    """Run one of distlab mr-test's checks with the learner's program in `role`
    ("coordinator" or "worker") and distlab's in the other, on inputs from `seed`; None if
    it passed."""
    cmd = [PYTHON, str(learner_file(target))]
    coordinator, worker = (cmd, OWN_WORKER) if role == "coordinator" else (OWN_COORDINATOR, cmd)
    with salted_hashes():
        # the crash app's dice from the scenario's seed too: the same crashes on every run
        for outcome in run_checks(coordinator, worker, [name],
                                  dataclasses.replace(settings, seed=seed, crash_seed=str(seed))):
            if not outcome.passed:
                return f"the {name} check failed: {outcome.reason}"
    return None


@contextlib.contextmanager
def salted_hashes() -> Iterator[None]:
    """Start the job's processes without the PYTHONHASHSEED that `distlab` pins for
    itself: each then salts str hashes its own way, as processes on different machines
    do, so a program partitioning with hash() is caught."""
    pinned = os.environ.pop("PYTHONHASHSEED", None)
    try:
        yield
    finally:
        if pinned is not None:
            os.environ["PYTHONHASHSEED"] = pinned


def program_grader(role: str, checks: dict[str, Settings]) -> tuple[Callable[[], list[str]],
                                                                  Callable[[str, object, int], str | None]]:
    """`scenarios` and `run` for a task graded by mr-test checks (each with its settings)
    on the learner's coordinator or worker program (`role`)."""

    def scenarios() -> list[str]:
        return list(checks)

    def run(name: str, target: object, seed: int) -> str | None:
        return mr_check(name, target, role, checks[name], seed)

    return scenarios, run


def straggler_check(target: object, seed: int, workers: int = 3, limit: float = 8.0) -> str | None:
    """The stragglers scenario: the learner's coordinator with distlab's workers running
    straggler_app (one map's first run stalls 12 s), a 30 s task timeout; the job must end
    within `limit` s with wc's answer, and map tasks may run at most once more per worker."""
    import shutil
    import tempfile
    import time

    from distlab.systems.mapreduce import sequential
    from distlab.systems.mapreduce.apps import load
    from distlab.systems.mapreduce.inputs import write_inputs
    from distlab.systems.mapreduce.mrtest import CheckFailed, _Run, difference

    base = Path(tempfile.mkdtemp(prefix="distlab-mr-straggler-"))
    run = None
    try:
        files = write_inputs(base / "inputs", seed, 300)
        expected = sorted(line.rstrip("\n") for line in sequential.run(load("wc"), files) if line.strip())
        cwd = base / "job"
        cwd.mkdir()
        env = {**os_environ(), "DISTLAB_MR_SOCKET": "mr-socket", "DISTLAB_MR_TASK_TIMEOUT": "30",
               "DISTLAB_MR_TIME_SCALE": "1"}
        run = _Run([PYTHON, str(learner_file(target))], OWN_WORKER, cwd, env, time.monotonic() + limit, limit)
        run.start_coordinator(files)
        for _ in range(workers):
            run.start_worker(STRAGGLER_APP)
        try:
            run.wait_coordinator()
        except CheckFailed:
            done = run.output()
            return (f"the job had not finished {limit:g} s after it started ({len(done)} output lines so far): one "
                    "map's first run stalls for 12 s and the task timeout is 30 s, so waiting for the timeout "
                    "is too slow; when no task is left to hand out, give an idle worker a backup copy of a task "
                    "still running and take whichever copy finishes first")
        reason = difference(expected, run.output(), "the sequential wc")
        if reason:
            return reason + run.exit_note()
        runs = sum(1 for p in cwd.iterdir() if p.name.startswith("mr-run-"))
        if runs > len(files) + workers:
            return (f"map tasks ran {runs} times for {len(files)} input files with {workers} workers: back up "
                    "only tasks still running, once each, and only when no task is idle")
        return None
    finally:
        if run is not None:
            run.close()
        shutil.rmtree(base, ignore_errors=True)


def os_environ() -> dict[str, str]:
    """This process's environment for a job's processes: no pinned hash seed, no worker pid."""
    env = dict(os.environ)
    env.pop("DISTLAB_MR_WORKER_PID", None)
    env.pop("PYTHONHASHSEED", None)
    return env
