"""`distlab tracks --verify`: every task's reference passes every scenario on every seed
and every mutant fails with its stated phrase, so a task never ships ungradeable."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from distlab.tracks.catalogue import CatalogueError, Task, load
from distlab.tracks.grading import GradeError, grade, target_for

MAX_WORKERS = 2


@dataclass
class TaskVerdict:
    """What verifying one task found: `problems` is empty when the task is sound."""

    task_id: str
    reference_ok: bool
    mutants_caught: int
    mutants: int
    seconds: float
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.reference_ok and self.mutants_caught == self.mutants and not self.problems


def verify_task(task: Task, store: Path | None = None) -> TaskVerdict:
    """Grade the reference (must pass) and each mutant (must fail with its phrase)."""
    start = time.perf_counter()
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="distlab-verify-") as tmp:
        where = Path(store) if store is not None else Path(tmp)
        try:
            results = grade(task, target_for(task, task.reference), store=where / "reference")
            failed = [r for r in results if not r.passed]
            for r in failed[:3]:
                problems.append(f"reference fails {r.name} (seed {r.seed}): {r.reason}")
            crashes = _handler_crashes(results)
            problems.extend(f"reference {c}" for c in crashes[:3])
            reference_ok = not failed and bool(results) and not crashes
            if not results:
                problems.append("reference: no scenario was graded")
        except GradeError as exc:
            reference_ok = False
            problems.append(f"reference could not run: {exc}")
        caught = 0
        for i, m in enumerate(task.mutants):
            try:
                source = m.materialize(task.reference, where / f"mutant{i}-source")
            except CatalogueError as exc:
                problems.append(str(exc))
                continue
            try:
                phrase = m.fails.lower()
                results = grade(task, target_for(task, source), store=where / f"mutant{i}",
                                until=lambda r, p=phrase: not r.passed and p in r.reason.lower())
                reasons = [r.reason for r in results if not r.passed]
            except GradeError as exc:
                reasons = [str(exc)]
            if any(m.fails.lower() in r.lower() for r in reasons):
                caught += 1
            elif reasons:
                problems.append(f"mutant {m.file.name} fails, but no reason mentions {m.fails!r}: {reasons[0]}")
            else:
                problems.append(f"mutant {m.file.name} passes every scenario")
    return TaskVerdict(task.id, reference_ok, caught, len(task.mutants), time.perf_counter() - start, problems)


def _handler_crashes(results: list) -> list[str]:
    """A reference that passes while its handlers raise (error 13 to clients) hides a bug
    the checker cannot see: what such runs' node_errors say."""
    out: list[str] = []
    for r in results:
        path = Path(r.run_dir) / "results.json" if r.run_dir else None
        if path is None or not path.is_file():
            continue
        for e in orjson.loads(path.read_bytes()).get("node_errors") or ():
            if e.get("kind") in ("handler", "crash-reply"):
                out.append(f"raised in a handler on {r.name} (seed {r.seed}): {e.get('message', e)}")
    return out


def _verify_id(task_id: str) -> TaskVerdict:
    task = load().task(task_id)
    assert task is not None
    return verify_task(task)


def verify_many(task_ids: list[str], workers: int = MAX_WORKERS,
                scheduler: str | None = None) -> list[TaskVerdict]:
    """Verify tasks in parallel (at most `workers` processes, or on the Dask cluster that
    `scheduler` names: distlab.fanout), results in the given order. Dask workers load
    the catalogue themselves, so a remote one needs the same distlab (and DISTLAB_TRACKS)."""
    from distlab.fanout import run_all

    return run_all(_verify_id, task_ids, scheduler=scheduler, workers=workers)
