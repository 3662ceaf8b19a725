"""Grading a learner's code against a task: each scenario on each fixed seed, through the
tool that already tests that kind of system (`distlab test` runs, raft-test, kv-lab, or
the task's own grader.py), with every failure said in the learner's terms."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    if r.get("error") and not (r.get("stats") or {}).get("ok") and sc.expect == "valid":
        # nothing ever answered and the run stopped: the node did not start (exit 2, not a grade)
        raise GradeError(f"{Path(target).name} did not start: {r['error']} (run dir {result.run_dir})")
    want = sc.expect == "valid"
    unfaulted = [w for w in r.get("warnings") or () if "no fault was injected" in w]
    if want and unfaulted:
        # A pass without the faults the scenario is about would prove nothing.
        return ScenarioResult(sc.name, seed, False, "this scenario asks for faults but none came in this run "
                              f"({unfaulted[0]}): the task needs a longer time limit or a shorter "
                              "nemesis interval; please report it", result.run_dir, replay)
    if want:
        if r.get("valid") is True:
            misses = target_misses(r, sc.targets)
            if not misses:
                return ScenarioResult(sc.name, seed, True, run_dir=result.run_dir, replay=replay)
            return ScenarioResult(sc.name, seed, False, "; ".join(misses), result.run_dir, replay)
        return ScenarioResult(sc.name, seed, False, "; ".join(reasons(r)[:3]), result.run_dir, replay)
    if r.get("valid") is False:
        return ScenarioResult(sc.name, seed, True, run_dir=result.run_dir, replay=replay)
    return ScenarioResult(sc.name, seed, False, "the checker should have found this run invalid, but it "
                          f"found it {r.get('valid')!r}", result.run_dir, replay)


def _grade_node(task: Task, target: str, bin_args: list[str], store: Path) -> Iterator[ScenarioResult]:
    if not Path(target).is_file():
        raise GradeError(f"{target}: no such file")
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
        try:
            outcomes = list(run_suite(raft, names, range(seed, seed + 1), timeout))
        except SuiteError as exc:
            raise GradeError(str(exc)) from None
        for o in outcomes:
            replay = f"distlab raft-test {target} -s {o.name} --first-seed {seed} --trace 20"
            if o.status == "pass":
                yield ScenarioResult(o.name, seed, True, replay=replay)
            elif o.status == "skip":  # detail: "needs compact()" or an attribute's gloss
                yield ScenarioResult(o.name, seed, False, f"your Raft lacks {o.detail.removeprefix('needs ')}"
                                     ", which this scenario needs", replay=replay)
            else:  # the tester's own verdict needs no exception name; a crash in the Raft keeps it
                yield ScenarioResult(o.name, seed, False, o.detail.removeprefix("AssertionError: "),
                                     replay=replay)


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
        scripted = run_dir is None or name in SCRIPTED  # a script's clients do not replay
        yield ScenarioResult(name, seed, passed, reason, run_dir,
                             f"distlab kv-lab --bin {target} -s {name}" if scripted
                             else f"distlab replay {run_dir}")




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


def _grade_module(task: Task, target: str, store: Path) -> Iterator[ScenarioResult]:
    from distlab.systems.raft.suite import SuiteError, load_factory

    if ":" in Path(target).name or not target.endswith(".py"):
        try:
            obj = load_factory(target)
        except SuiteError as exc:
            raise GradeError(str(exc)) from None
    else:
        obj = _only_object(target)
    grader = import_file(task.folder / "grader.py", f"_distlab_grader_{task.id.replace('/', '_').replace('-', '_')}")
    extra = {"store": str(store)} if _takes_store(grader.run) else {}
    for name in grader.scenarios():
        for seed in _seeds(task):
            try:
                reason = grader.run(name, obj, seed, **extra)
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}{_where(exc)}"
            yield ScenarioResult(name, seed, reason is None, reason or "",
                                 replay=f"distlab check {task.id} --bin {target}")


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
