"""Hunt C: mistakes the course's graders used to pass (store, messenger, identifier,
networker, mapreducer) are now caught, and each task's reference still passes.

Each entry names a task and the mutants added by the hunt; the task must verify sound
(reference passes every scenario, every mutant fails with its phrase) and each named
mutant must be among the task's mutants, so deleting one is noticed too.
"""

from __future__ import annotations

import pytest

from distlab.tracks.catalogue import load
from distlab.tracks.verify import verify_task

HUNTED: dict[str, list[str]] = {
    "store/log-structured": ["empty_value_missing", "tab_records"],
    "identifier/crash-safe-epochs": ["epoch_counter_glued"],
    "identifier/snowflake-clock-skew": ["sequence_wraps"],
    "mapreducer/task-files": ["reduce_in_place"],
    "messenger/durable-dedup": ["sequence_in_memory"],
    "store/compaction": ["compact_only_on_open"],
    "store/crash-safety": ["length_prefix_header"],
    "store/redis-protocol": ["case_sensitive"],
}


@pytest.mark.parametrize("task_id", sorted(HUNTED))
def test_hunted_mistakes_are_caught_and_reference_passes(task_id: str) -> None:
    task = load().task(task_id)
    assert task is not None, task_id
    names = {m.file.stem for m in task.mutants}
    missing = [n for n in HUNTED[task_id] if n not in names]
    assert not missing, f"{task_id} lost its mutants {missing}"
    verdict = verify_task(task)
    assert verdict.reference_ok, verdict.problems
    assert verdict.ok, verdict.problems


def test_compaction_starter_leaves_the_tasks_ideas_to_the_learner() -> None:
    """The compaction task's starter once held the whole answer after a `return`, and
    already counted dead bytes on replay (one of the three things the task grades)."""
    task = load().task("store/compaction")
    assert task is not None
    text = task.starter.read_text(encoding="utf-8")
    compact = text.split("def compact", 1)[1].split("def close", 1)[0]
    replay = text.split("def _load", 1)[1].split("def _append", 1)[0]
    assert "open(" not in compact
    assert "self.dead +=" not in replay
