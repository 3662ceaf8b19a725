"""Grading a learner's code against a task: each scenario on each fixed seed, through the
tool that already tests that kind of system (`distlab test` runs, raft-test, kv-lab, or
the task's own grader.py), with every failure said in the learner's terms."""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from distlab.loadfile import import_file
from distlab.tracks.catalogue import Scenario, Task
from distlab.tracks.explain import reasons, target_misses


class GradeError(Exception):
    """The code could not be graded at all (missing file, node that cannot start): exit 2."""


@dataclass
class ScenarioResult:
    """One scenario on one seed."""

    name: str
    seed: int
    passed: bool
    reason: str = ""
    run_dir: Path | None = None
    replay: str = ""  # the command that reruns this failure


def default_target(task: Task, workspace: Path) -> str:
    """What `distlab check` grades when no --bin is given: the starter file in the
    workspace (with its factory for raft and module tasks)."""
    return target_for(task, workspace / task.starter_name)


def target_for(task: Task, path: Path) -> str:
    """`path` as the grader takes it: FILE:FACTORY for raft and module tasks, else the file."""
    if task.kind == "raft" or (task.kind == "module" and "factory" in task.grader):
        return f"{path}:{task.grader.get('factory', 'make')}"
    return str(path)  # a module task without [grader] factory: the file's `make` or its one class


def _only_object(path: str) -> Any:
    """The object a module task grades when the target names none: the file's `make`, else
    the one class it defines (e.g. `KvStore`)."""
    import inspect

    from distlab.systems.raft.suite import SuiteError, load_factory

    try:
        return load_factory(f"{path}:make")
    except SuiteError as exc:
        if "has no attribute" not in str(exc):
            raise GradeError(str(exc)) from None
    module = sys.modules[f"_raft_under_test_{Path(path).stem}"]
    classes = [v for v in vars(module).values() if inspect.isclass(v) and v.__module__ == module.__name__
               and not v.__name__.startswith("_")]
    if len(classes) != 1:
        raise GradeError(f"{path}: name what to grade with --bin {path}:NAME "
                         f"({'it defines ' + ', '.join(c.__name__ for c in classes) if classes else 'it defines no class'})")
    return classes[0]


def _node_scenario(task: Task, sc: Scenario, target: str, bin_args: list[str], store: Path,
                   seed: int) -> ScenarioResult:
    from distlab.options import RunError, TestOptions
    from distlab.runner import run_test

    # Faults come on `distlab test`'s schedule (Jepsen's stagger) unless the task says
    # otherwise, so a replay from the command line is the same run, and a short scenario
    # still sees faults (the fixed schedule's first change is one interval in).
    options = {"nemesis_schedule": "stagger", **sc.options}
    opts = TestOptions(workload=sc.workload, bin=target, bin_args=list(bin_args), seed=seed,
                       store=str(store), mode="auto", **options)
    try:
        result = run_test(opts)
    except RunError as exc:
        raise GradeError(str(exc)) from None
    r = result.results
    replay = f"distlab replay {result.run_dir}"
    if r.get("mode") not in (None, "sim"):  # real processes do not replay: the check reruns the seed
        replay = " ".join([f"distlab check {task.id} --bin {target}", *(["--", *bin_args] if bin_args else [])])
    if r.get("error"):  # the learner's file and line, and its last words, not "see the log"
        said = _stopped(str(r["error"]), Path(result.run_dir), target)
        w = r.get("workload")
        if isinstance(w, dict) and w.get("error") == r["error"]:  # the checker repeats it: once
            w = {**w, "error": said}
        r = {**r, "error": said, "workload": w}
    stats = r.get("stats") or {}
    if r.get("error") and not stats.get("count") and sc.expect == "valid":
        # the run stopped before any client request: the node did not start (exit 2, not a grade)
        raise GradeError(f"{Path(target).name} did not start: {r['error']} "
                         f"(scenario {sc.name!r}, seed {seed}; "
                         f"{'replay' if replay.startswith('distlab replay') else 'rerun'}: {replay})")
    want = sc.expect == "valid"
    unfaulted = [w for w in r.get("warnings") or () if "no fault was injected" in w]
    if want and unfaulted:
        # A pass without the faults the scenario is about would prove nothing.
        return ScenarioResult(sc.name, seed, False, "this scenario asks for faults but none came in this run "
                              f"({unfaulted[0]}): the task needs a longer time limit or a shorter "
                              "nemesis interval; please report it", result.run_dir, replay)
    if want:
        if r.get("valid") is True:
            broken = _broken_node(r, opts, Path(result.run_dir), patient="op_timeout" not in sc.options)
            misses = ([broken] if broken else []) + target_misses(r, sc.targets)
            if not misses:
                return ScenarioResult(sc.name, seed, True, run_dir=result.run_dir, replay=replay)
            return ScenarioResult(sc.name, seed, False, "; ".join(misses), result.run_dir, replay)
        return ScenarioResult(sc.name, seed, False, "; ".join(reasons(r)[:3]), result.run_dir, replay)
    if r.get("valid") is False:
        return ScenarioResult(sc.name, seed, True, run_dir=result.run_dir, replay=replay)
    return ScenarioResult(sc.name, seed, False, "the checker should have found this run invalid, but it "
                          f"found it {r.get('valid')!r}", result.run_dir, replay)


BROKEN_KINDS = ("handler", "bad-reply", "crash-reply", "no-reply", "periodic", "task", "protocol")
"""Node errors that fail a run the checker found valid: a handler that raised, a reply
that could not be sent, garbage on stdout. The history can look fine while a node is
broken (a read-only request that failed is allowed to fail), and a verdict must never
pass a broken node; verify holds references to the same rule."""


EXPECTED_IN_BACKGROUND = ("RPCError", "TimeoutError", "CancelledError")
"""What a periodic job or background task may raise without being broken: a call that
timed out or was refused under faults ends that round, and the next round retries."""


def _broken_node(r: dict[str, Any], opts: Any, run_dir: Path, patient: bool = True) -> str:
    """Why a run the checker found valid still fails: the first node error, or requests
    that timed out where no fault was injected and clients were patient (a task's own
    `op_timeout` makes timeouts part of the exercise): a node that stopped answering.
    Empty when the node is sound."""
    for e in r.get("node_errors") or ():
        if e.get("kind") in ("periodic", "task") and e.get("exception") in EXPECTED_IN_BACKGROUND:
            continue  # a gossip round that timed out in a partition: the next one retries
        if e.get("kind") in BROKEN_KINDS:
            said = f"node error: {e.get('message') or e}"
            if "not a protocol message" in said:
                said += " (stdout carries protocol messages only: print debugging output to stderr)"
            return said
    if opts.nemesis or opts.loss or opts.fail or not patient:
        return ""  # under faults a timeout can be the network's doing: the checker judges
    timed_out, first, total = 0, None, 0
    try:
        lines = (run_dir / "history.jsonl").read_bytes().splitlines()
    except OSError:
        return ""
    invoked: dict[int, float] = {}
    for line in lines:
        rec = orjson.loads(line)
        if rec.get("type") == "invoke":
            invoked[rec.get("process")] = rec.get("time", 0)
            total += 1
        elif rec.get("error") == [0, "client timed out"]:
            timed_out += 1
            at = invoked.get(rec.get("process"), 0)
            first = at if first is None else min(first, at)
    if not timed_out:
        return ""
    return (f"{timed_out} of {total} client requests got no reply though no fault was injected "
            f"(the first sent at {(first or 0) / 1e9:.3f} s): a node stopped answering (a handler that "
            "blocks, loops or awaits a call without a timeout, or a reply never sent)")


def _stopped(error: str, run_dir: Path, target: str) -> str:
    """A run's stop reason with what the node's log says: the exception that ended it and
    the learner's line it came from, and the log's full path (the run dir's relative
    `node-logs/n1.log` means nothing from the workspace)."""
    m = re.match(r"node (\S+?):? ", error)
    if m is None:
        return error
    log = run_dir / "node-logs" / f"{m.group(1)}.log"
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return error
    error = error.replace(f"see node-logs/{m.group(1)}.log", f"see {log}")
    lines = [re.sub(r"^\s*\d+\.\d+ ", "", ln).strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("[distlab]")]
    name = Path(target).name
    at = [int(x.group(2)) for ln in lines
          for x in [re.search(r'File "(?:[^"]*/)?([^/"]+)", line (\d+)', ln)] if x and x.group(1) == name]
    where = f" (at {name}:{at[-1]})" if at and f"{name}:" not in error else ""
    if "exited on its own" in error and lines and "status 0" not in error:
        return f"{error.split('; see ')[0]} after {lines[-1][:200]}{where}; see {log}"
    return error + where if where and "loading" in error else error


def _grade_node(task: Task, target: str, bin_args: list[str], store: Path) -> Iterator[ScenarioResult]:
    path = Path(target)
    if not path.is_file():
        raise GradeError(f"{target}: {'a folder, not a file' if path.is_dir() else 'no such file'}")
    if path.stat().st_size == 0:
        raise GradeError(f"{target} is empty: write your node there (statement.md says what it must do)")
    for sc in task.scenarios:
        for seed in sc.seeds:
            yield _node_scenario(task, sc, target, bin_args, store, seed)


def _seeds(task: Task) -> list[int]:
    seeds = task.grader.get("seeds", 1)
    return list(range(1, seeds + 1)) if isinstance(seeds, int) else list(seeds)


def _grade_raft(task: Task, target: str) -> Iterator[ScenarioResult]:
    from distlab.systems.raft.suite import SuiteError, load_factory, run_suite, select

    try:
        names = select(list(task.grader["scenarios"]))
        raft = load_factory(target)
    except SuiteError as exc:
        raise GradeError(str(exc)) from None
    seeds = _seeds(task)
    timeout = float(task.grader.get("timeout", 60.0))
    for seed in seeds:
        done: set[str] = set()
        suite = run_suite(raft, names, range(seed, seed + 1), timeout)
        try:
            for o in suite:  # each as it comes: the learner sees progress, an endless loop stops early
                done.add(o.name)
                res = _raft_result(o, target, seed)
                if res.reason.startswith("still running after"):
                    # an endless loop: each later scenario would take as long to say the same
                    res.reason += " (the scenarios after this one were not run)"
                    yield res
                    return
                yield res
        except SuiteError as exc:
            raise GradeError(str(exc)) from None
        except SystemExit as exc:  # the learner's Raft ended the process: its scenario fails
            name = next((n for n in names if n not in done), names[-1])
            yield ScenarioResult(name, seed, False, _ended(exc) + " (the scenarios after this one were not run)",
                                 replay=f"distlab raft-test {target} -s {name} --first-seed {seed} --trace 20")
            return
        finally:
            suite.close()


def _raft_result(o: Any, target: str, seed: int) -> ScenarioResult:
    """One raft-test outcome as a scenario result, with the command that reruns it."""
    replay = f"distlab raft-test {target} -s {o.name} --first-seed {seed} --trace 20"
    if o.status == "pass":
        return ScenarioResult(o.name, seed, True, replay=replay)
    if o.status == "skip":  # detail: "needs compact()" or an attribute's gloss
        return ScenarioResult(o.name, seed, False, f"your Raft lacks {o.detail.removeprefix('needs ')}"
                              ", which this scenario needs", replay=replay)
    # the tester's own verdict needs no exception name; a crash in the Raft keeps it
    return ScenarioResult(o.name, seed, False, o.detail.removeprefix("AssertionError: "), replay=replay)


def _grade_kvlab(task: Task, target: str, bin_args: list[str], store: Path) -> Iterator[ScenarioResult]:
    from distlab.options import RunError
    from distlab.systems.kvraft.lab import SCENARIOS, SCRIPTED, Lab, LabSkip
    from distlab.systems.raft.suite import SuiteError, select

    if not Path(target).is_file():
        raise GradeError(f"{target}: no such file")
    try:
        names = select(list(task.grader["scenarios"]), SCENARIOS)
    except SuiteError as exc:
        raise GradeError(str(exc)) from None
    for name in names:
        lab = Lab(target, list(bin_args), store=str(store), mode="auto",
                  max_state_bytes=int(task.grader.get("max_state_bytes", 8192)))
        try:
            SCENARIOS[name](lab)
            passed, reason = True, ""
        except LabSkip as exc:
            passed, reason = False, f"this check {exc}"
        except AssertionError as exc:
            passed, reason = False, (str(exc).splitlines() or ["failed"])[0]
        except RunError as exc:
            raise GradeError(str(exc)) from None
        last = lab.runs[-1] if lab.runs else None
        if not passed and last is not None and reason.startswith("not linearizable"):
            # kv-lab quotes the checker's JSON; say which operation could not be linearized
            said = [r for r in reasons(last.results) if r.startswith("not linearizable")]
            if said:
                reason = said[0]
        seed = int(last.results.get("seed", 0)) if last is not None else 0
        run_dir = last.run_dir if last is not None else None
        head, early, stop = reason.partition("the run ended early: ")
        if early and run_dir is not None:  # the node's last words and line, the log's full path
            reason = head + early + _stopped(stop, Path(run_dir), target)
        scripted = run_dir is None or name in SCRIPTED  # a script's clients do not replay
        again = f"distlab kv-lab --bin {target} -s {name}" if scripted else f"distlab replay {run_dir}"
        if last is not None and last.results.get("mode") not in (None, "sim"):
            scripted, again = True, f"distlab check {task.id} --bin {target}"  # real processes do not replay
        if early and last is not None and not (last.results.get("stats") or {}).get("count"):
            # stopped before any client request: the node did not start (exit 2, as node tasks)
            raise GradeError(f"{Path(target).name} did not start: {reason.partition(early)[2]} "
                             f"(scenario {name!r}, seed {seed}; {'rerun' if scripted else 'replay'}: {again})")
        yield ScenarioResult(name, seed, passed, reason, run_dir, again)




def _where(exc: BaseException) -> str:
    """The learner's line an exception came from (the last frame outside distlab's engine)."""
    here = str(Path(__file__).resolve().parent)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(here)
              or "/mutants/" in f.filename or f.filename.endswith(("reference.py", "starter.py"))]
    if not frames:
        return ""
    f = frames[-1]
    return f" (at {Path(f.filename).name}:{f.lineno})"


def _takes_store(run: Callable[..., Any]) -> bool:
    """Whether a grader's run() takes `store`: one that makes runs (a lab on the learner's
    node) keeps them in the store it is given, not in the current directory."""
    import inspect

    try:
        return "store" in inspect.signature(run).parameters
    except (TypeError, ValueError):
        return False


MODULE_TIMEOUT = 60.0
"""Seconds one module task's scenario (or loading the learner's file) may take unless
the task's [grader] timeout says otherwise: the learner's code runs in this process, so
an infinite loop would otherwise hang `distlab check` for good."""


class _Overran(BaseException):
    """The alarm went off inside the code being graded (its traceback says where). Not an
    Exception, so a grader's own `except Exception` does not take it for a verdict."""


def _bounded(seconds: float, fn: Callable[[], Any]) -> Any:
    """fn() under a wall-clock alarm raising _Overran where the code then was. Signals
    reach the main thread only; elsewhere (a Dask worker's thread) fn runs unbounded."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return fn()

    def on_alarm(_signum: int, _frame: Any) -> None:
        raise _Overran(f"did not finish within {seconds:g} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return fn()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, old)


def _ended(exc: BaseException) -> str:
    """A scenario's end that is not a verdict, in the learner's terms."""
    if isinstance(exc, _Overran):
        return (f"{exc}{_where(exc)}: an infinite loop, a blocking call that never returns, or a "
                "lock never released?")
    if isinstance(exc, SystemExit):
        return (f"your code called sys.exit({exc.code!r}){_where(exc)}: the code under test must "
                "return or raise, never end the process")
    return f"{type(exc).__name__}: {exc}{_where(exc)}"


def _grade_module(task: Task, target: str, store: Path) -> Iterator[ScenarioResult]:
    from distlab.systems.raft.suite import SuiteError, load_factory

    limit = float(task.grader.get("timeout", MODULE_TIMEOUT))
    try:
        if ":" in Path(target).name or not target.endswith(".py"):
            try:
                obj = _bounded(limit, lambda: load_factory(target))
            except SuiteError as exc:
                raise GradeError(str(exc)) from None
        else:
            obj = _bounded(limit, lambda: _only_object(target))
    except (_Overran, SystemExit) as exc:  # at import: nothing could be graded
        raise GradeError(f"cannot import {target!r}: {_ended(exc)}") from None
    grader = import_file(task.folder / "grader.py", f"_distlab_grader_{task.id.replace('/', '_').replace('-', '_')}")
    extra = {"store": str(store)} if _takes_store(grader.run) else {}
    for name in grader.scenarios():
        for seed in _seeds(task):
            overran = False
            try:
                reason = _bounded(limit, lambda name=name, seed=seed: grader.run(name, obj, seed, **extra))
            except _Overran as exc:  # the next scenarios would most likely hang as long: not run
                reason, overran = _ended(exc) + " (the scenarios after this one were not run)", True
            except (Exception, SystemExit) as exc:
                reason = _ended(exc)
            yield ScenarioResult(name, seed, reason is None, reason or "",
                                 replay=f"distlab check {task.id} --bin {target}")
            if overran:
                return


def grade(task: Task, target: str, bin_args: list[str] | None = None, store: Path | str = "store",
          on_result: Callable[[ScenarioResult], None] | None = None,
          until: Callable[[ScenarioResult], bool] | None = None) -> list[ScenarioResult]:
    """Every scenario of `task` on every seed, against `target` (a file, or FILE:NAME for
    raft and module tasks); GradeError if it cannot be run at all. With `until`, grading
    stops after the first result it accepts (verify needs one failure of a mutant, not all)."""
    args = list(bin_args or [])
    store = Path(store)
    if task.kind == "node":
        gen = _grade_node(task, target, args, store)
    elif task.kind == "raft":
        gen = _grade_raft(task, target)
    elif task.kind == "kvlab":
        gen = _grade_kvlab(task, target, args, store)
    else:
        gen = _grade_module(task, target, store)
    out = []
    for res in gen:
        out.append(res)
        if on_result is not None:
            on_result(res)
        if until is not None and until(res):
            gen.close()  # the grader's finally blocks run: its runs and processes end
            break
    return out
