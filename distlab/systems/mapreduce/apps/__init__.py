"""The applications, as 6.824's mrapps: each module has `map_fn(filename, contents)`
returning (key, value) pairs and `reduce_fn(key, values)` returning one string.

Their sleeps are multiplied by DISTLAB_MR_TIME_SCALE (1 by default, as 6.824), so tests
can run the timing apps in a fraction of the time. A worker in another language runs them
through `python -m distlab.systems.mapreduce.app`; there the worker (whose parallelism
and crashes the apps observe) is the runner's parent, or DISTLAB_MR_WORKER_PID."""

from __future__ import annotations

import importlib
import importlib.util
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

APP_NAMES = ("wc", "indexer", "mtiming", "rtiming", "jobcount", "early_exit", "crash", "nocrash")

MapFn = Callable[[str, str], list[tuple[str, str]]]
ReduceFn = Callable[[str, list[str]], str]


class AppError(Exception):
    """The application cannot be loaded."""


@dataclass(frozen=True)
class App:
    name: str
    map_fn: MapFn
    reduce_fn: ReduceFn


def load(spec: str) -> App:
    """An application by name (wc, indexer, ...), dotted module, or FILE.py."""
    try:
        if spec in APP_NAMES:
            module = importlib.import_module(f"{__name__}.{spec}")
        elif spec.endswith(".py"):
            path = Path(spec)
            if not path.is_file():
                raise AppError(f"no application file {spec}")
            loader = importlib.util.spec_from_file_location(path.stem, path)
            if loader is None or loader.loader is None:
                raise AppError(f"cannot load {spec}")
            module = importlib.util.module_from_spec(loader)
            loader.loader.exec_module(module)
        elif "." in spec:
            module = importlib.import_module(spec)
        else:
            raise AppError(f"unknown application {spec!r} (known: {', '.join(APP_NAMES)}; "
                           "or a module path, or FILE.py)")
    except ImportError as exc:
        raise AppError(f"cannot import application {spec!r}: {exc}") from exc
    map_fn, reduce_fn = getattr(module, "map_fn", None), getattr(module, "reduce_fn", None)
    if not callable(map_fn) or not callable(reduce_fn):
        raise AppError(f"application {spec!r} lacks map_fn(filename, contents) and reduce_fn(key, values)")
    return App(spec, map_fn, reduce_fn)


def sleep(seconds: float) -> None:
    """Sleep `seconds` times DISTLAB_MR_TIME_SCALE."""
    time.sleep(seconds * float(os.environ.get("DISTLAB_MR_TIME_SCALE") or 1.0))


def worker_pid() -> int:
    """The worker this code runs for: this process, or the runner's parent worker."""
    return int(os.environ.get("DISTLAB_MR_WORKER_PID") or os.getpid())


def crash_worker() -> None:
    """Die as a crashing worker does: at once, without reporting or cleaning up."""
    pid = worker_pid()
    if pid != os.getpid():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    os._exit(1)


def nparallel(phase: str) -> int:
    """How many workers are in `phase` now, this one included: each announces itself with a
    file mr-worker-PHASE-PID, counts the files whose process is alive, and stays a second
    so that overlapping workers see each other."""
    pid = worker_pid()
    mine = Path(f"mr-worker-{phase}-{pid}")
    mine.write_text("x")
    alive = 0
    prefix = f"mr-worker-{phase}-"
    for name in os.listdir("."):
        if name.startswith(prefix) and name[len(prefix):].isdigit():
            try:
                os.kill(int(name[len(prefix):]), 0)
                alive += 1
            except OSError:
                pass
    sleep(1.0)
    mine.unlink(missing_ok=True)
    return alive


def letter_runs(text: str) -> list[str]:
    """Words as 6.824's wc has them: maximal runs of Unicode letters (category L*)."""
    import re

    words: list[str] = []
    for match in re.finditer(r"[^\W\d_]+", text):
        word = match.group()
        if word.isalpha():
            words.append(word)
        else:  # rare: \w counts numerics like '½' that are not letters; split on them
            run = ""
            for ch in word:
                if ch.isalpha():
                    run += ch
                elif run:
                    words.append(run)
                    run = ""
            if run:
                words.append(run)
    return words
