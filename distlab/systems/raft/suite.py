"""Run the Raft scenarios on any Raft: yours (a factory named `module:attribute`) or
distlab's own core (with mutants, to watch the tester catch them).

This is what `distlab raft-test` drives. Scenarios run in this process, one after the
other, each under a wall-clock alarm: a Raft that loops forever is reported as timed
out instead of hanging the run, and an exception from inside your code is a failure
that names the place it came from.
"""

from __future__ import annotations

import fnmatch
import importlib
import random
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from distlab.loadfile import import_file
from distlab.systems.raft.core import Config, Persisted
from distlab.systems.raft.interface import REQUIRED, check_raft, describe_need, lacking_optional
from distlab.systems.raft.scenarios import NEEDS, SCENARIOS, Raft
from distlab.systems.raft.tester import Cluster, Factory

__all__ = ["REQUIRED", "Outcome", "Overran", "SuiteError", "load_factory", "probe", "run_scenario",
           "run_suite", "select", "within"]

T = TypeVar("T")


class SuiteError(Exception):
    """The Raft under test cannot be loaded or lacks the interface: one line for the user."""


def load_factory(spec: str) -> Factory:
    """`package.module:name` or `path/to/file.py:name` -> the factory it names."""
    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name:
        raise SuiteError(f"{spec!r} is not MODULE:FACTORY (e.g. myraft:make or myraft.py:make)")
    try:
        if where.endswith(".py"):
            path = Path(where)
            if not path.is_file():
                raise SuiteError(f"no such file: {where}")
            sys.path.insert(0, str(path.resolve().parent))
            module = import_file(path, f"_raft_under_test_{path.stem}")
        else:
            module = importlib.import_module(where)
    except SuiteError:
        raise
    except Exception as exc:  # the user's module failed to import: say why, in one line
        raise SuiteError(f"cannot import {where!r}: {type(exc).__name__}: {exc}") from None
    factory = getattr(module, name, None)
    if factory is None:
        raise SuiteError(f"{where!r} has no attribute {name!r}")
    if not callable(factory):
        raise SuiteError(f"{spec} is a {type(factory).__name__}, not a callable factory")
    return factory  # type: ignore[no-any-return]


def probe(raft: Raft, timeout: float = 60.0) -> set[str]:
    """Build one node and hold it to `RaftLike` (interface.py) before any scenario runs:
    what is missing or mistyped is one SuiteError line. Returns the optional methods
    the node lacks (their scenarios are skipped). The learner's code runs here before any
    scenario's alarm is set, so it gets one of its own: a factory that never returns is a
    SuiteError after `timeout` seconds, not a hung command."""
    if raft is None or isinstance(raft, Config):
        return set()

    def build() -> tuple[Any, str | None, set[str]]:
        node = raft("s0", ["s0", "s1", "s2"], random.Random(0), Persisted())
        problem = check_raft(node)
        return node, problem, (set() if problem else lacking_optional(node))

    try:
        _, problem, lacking = within(timeout, build)
    except Overran:
        raise SuiteError(f"the factory {factory_name(raft)} did not return a node within "
                         f"{timeout:g} s (an endless loop in it, or in the node's "
                         "constructor?)") from None
    except Exception as exc:
        raise SuiteError(f"the factory failed to build a node: {_describe(exc)}") from None
    if problem:
        raise SuiteError(problem)
    return lacking


class Overran(Exception):
    """`within`'s call was still running when its time was up."""


def within(seconds: float, fn: Callable[[], T]) -> T:
    """fn() under a wall-clock alarm (SIGALRM, as the scenarios run): Overran if it has not
    returned after `seconds`. Signals are handled on the main thread only; elsewhere fn
    runs unbounded."""
    if threading.current_thread() is not threading.main_thread():
        return fn()
    old = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return fn()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Alarm:
        raise Overran(f"still running after {seconds:g} s") from None
    finally:
        signal.signal(signal.SIGALRM, old)


def factory_name(factory: Any) -> str:
    """How the learner named a factory: FILE.py:NAME for one loaded from a file by path,
    MODULE:NAME otherwise."""
    name = getattr(factory, "__qualname__", None) or type(factory).__name__
    module_name = getattr(factory, "__module__", None) or ""
    module = sys.modules.get(module_name)
    path = getattr(module, "__file__", None)
    if module_name.startswith("_raft_under_test_") and path:
        return f"{path}:{name}"
    return f"{module_name}:{name}" if module_name else name


def select(patterns: list[str], known: Iterable[str] = SCENARIOS) -> list[str]:
    """Scenario names matching any of the glob patterns (all if none), in suite order."""
    names = list(known)
    if not patterns:
        return names
    chosen = set()
    for pattern in patterns:
        hits = fnmatch.filter(names, pattern)
        if not hits:
            raise SuiteError(f"no scenario matches {pattern!r}; known: {', '.join(names)}")
        chosen.update(hits)
    return [name for name in names if name in chosen]


@dataclass
class Outcome:
    """One scenario over its seeds: passed, failed (at `seed`), skipped or timed out."""

    name: str
    status: str  # "pass" | "fail" | "timeout" | "skip"
    seeds_passed: int
    seeds: int
    seconds: float
    seed: int | None = None  # the failing seed
    detail: str = ""
    events: list[str] = field(default_factory=list)  # the tester's last events, with --trace


class _Alarm(BaseException):
    """Raised by SIGALRM inside the scenario (a BaseException so user code can't swallow it
    with `except Exception`)."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Alarm


def _describe(exc: BaseException) -> str:
    """The exception and the innermost frame outside distlab (the user's line, if any)."""
    text = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
    frames = traceback.extract_tb(exc.__traceback__)
    mine = str(Path(__file__).resolve().parents[2])
    outside = [f for f in frames if not f.filename.startswith(mine)]
    if outside and not isinstance(exc, AssertionError):
        f = outside[-1]
        text += f" (at {f.filename}:{f.lineno} in {f.name})"
    elif frames and not isinstance(exc, AssertionError):
        # Raised inside the tester itself: it read something of the node that was not
        # what RaftLike promises (a None where an object belongs, say). Name the line.
        f = frames[-1]
        code = f" `{f.line.strip()}`" if f.line else ""
        text += (f" (in the tester at {_short_path(f.filename)}:{f.lineno}{code}, reading "
                 "what your node returned; see RaftLike in distlab/systems/raft/interface.py)")
    return text


def _short_path(filename: str) -> str:
    """A distlab file relative to the repository, as a learner would open it."""
    root = Path(__file__).resolve().parents[3]
    try:
        return str(Path(filename).resolve().relative_to(root))
    except ValueError:
        return filename


def _storage_hints(cluster: Cluster | None) -> str:
    """What the failed run's disks say the node never asked to store: a Ready whose
    hard_state (or entries) was always empty fails as a safety violation far from its
    cause, so say it outright."""
    if cluster is None:
        return ""
    terms, commits = [], []
    for i in cluster.ids:
        node = cluster.nodes[i]
        if node is None:
            continue
        try:
            st = node.status()
            terms.append(int(st.get("term", 0)))
            commits.append(int(st.get("commit", 0)))
        except Exception:  # noqa: BLE001 - a broken status() is reported elsewhere
            continue
    hints = []
    disks = cluster.disks.values()
    if terms and max(terms) > 0 and all(d.hard.term == 0 and d.hard.vote is None for d in disks):
        hints.append(f"no hard state was ever stored: ready() never carried a hard_state, "
                     f"though your nodes reached term {max(terms)}, so a restarted node "
                     "forgets its term and whom it voted for")
    if commits and max(commits) > 0 and all(d.last == 0 and d.snapshot is None for d in disks):
        hints.append(f"no log entry was ever stored: ready() never carried entries (or "
                     f"last_index), though entries up to {max(commits)} were committed")
    return "".join(f"; {h}" for h in hints)


def run_scenario(name: str, raft: Raft, seeds: range, timeout: float,
                 lacking: frozenset[str] | set[str] = frozenset(),
                 on_seed: Callable[[str, int], None] | None = None, trace: int = 0) -> Outcome:
    """Run one scenario on each seed until one fails; `on_seed` hears of each start; with
    `trace` > 0 a failure carries the tester's last `trace` events."""
    start = time.perf_counter()
    need = NEEDS.get(name, ())
    absent = [n for n in ((need,) if isinstance(need, str) else need) if n in lacking]
    if absent:
        return Outcome(name, "skip", 0, len(seeds), 0.0,
                       detail="needs " + " and ".join(map(describe_need, absent)))
    scenario: Callable[..., None] = SCENARIOS[name]
    passed = 0
    Cluster.trace_limit = trace
    try:
        for seed in seeds:
            if on_seed is not None:
                on_seed(name, seed)
            try:
                within(timeout, partial(scenario, seed, raft))
            except Overran:
                return Outcome(name, "timeout", passed, len(seeds), time.perf_counter() - start,
                               seed, f"still running after {timeout:g} s (an endless loop?)",
                               _last_events(trace))
            except Exception as exc:  # AssertionError (the tester's verdict) or a bug in the Raft
                return Outcome(name, "fail", passed, len(seeds), time.perf_counter() - start,
                               seed, _describe(exc) + _storage_hints(Cluster.latest),
                               _last_events(trace))
            passed += 1
    finally:
        Cluster.trace_limit = 0
    return Outcome(name, "pass", passed, len(seeds), time.perf_counter() - start)


def _last_events(trace: int) -> list[str]:
    cluster = Cluster.latest
    if not trace or cluster is None or cluster.events is None:
        return []
    return list(cluster.events)


def run_suite(raft: Raft, names: list[str], seeds: range, timeout: float = 60.0,
              on_seed: Callable[[str, int], None] | None = None,
              trace: int = 0) -> Iterator[Outcome]:
    """Every chosen scenario in turn (a generator, so callers can show progress)."""
    lacking = probe(raft, timeout)
    for name in names:
        yield run_scenario(name, raft, seeds, timeout, lacking, on_seed, trace)
