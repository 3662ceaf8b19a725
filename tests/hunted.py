"""The check the false-pass hunts' tests share: a hunted task still lists the mutants
written for the mistakes it used to pass, its reference passes and every mutant fails."""

from __future__ import annotations

from distlab.tracks.catalogue import load
from distlab.tracks.verify import verify_task


def check_hunted(task_id: str, mutants: list[str]) -> None:
    task = load().task(task_id)
    assert task is not None, task_id
    names = {m.file.stem for m in task.mutants}
    missing = [n for n in mutants if n not in names]
    assert not missing, f"{task_id} lost its mutants {missing}"
    verdict = verify_task(task)
    assert verdict.reference_ok, verdict.problems
    assert verdict.ok, verdict.problems
