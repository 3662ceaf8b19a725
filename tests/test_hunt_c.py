"""Hunt C: mistakes the course's graders used to pass (store, messenger, identifier,
networker, mapreducer) are now caught, and each task's reference still passes.

Each entry names a task and the mutants added by the hunt; the task must verify sound
(reference passes every scenario, every mutant fails with its phrase) and each named
mutant must be among the task's mutants, so deleting one is noticed too.
"""

from __future__ import annotations

import pytest

from distlab.tracks.catalogue import load
from tests.hunted import check_hunted

HUNTED: dict[str, list[str]] = {
    "store/log-structured": ["empty_value_missing", "tab_records"],
    "identifier/crash-safe-epochs": ["epoch_counter_glued"],
    "identifier/dense-ids": ["claims_the_new_value", "block_lease"],
    "identifier/random-ids": ["seeded_by_node_id"],
    "identifier/snowflake-clock-skew": ["sequence_wraps"],
    "mapreducer/hash-join": ["columns_run_together"],
    "mapreducer/task-files": ["reduce_in_place"],
    "mapreducer/top-k": ["counts_left_as_text"],
    "messenger/dedup": ["last_msg_id_only"],
    "messenger/durable-dedup": ["sequence_in_memory"],
    "messenger/timestamp-oracle": ["counter_in_memory"],
    "store/cli": ["data_beside_script", "empty_value_missing"],
    "store/in-memory": ["shared_class_dict"],
    "store/compaction": ["compact_only_on_open"],
    "store/crash-safety": ["length_prefix_header"],
    "store/redis-protocol": ["case_sensitive"],
}


@pytest.mark.parametrize("task_id", sorted(HUNTED))
def test_hunted_mistakes_are_caught_and_reference_passes(task_id: str) -> None:
    check_hunted(task_id, HUNTED[task_id])


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


def _ids_history(acked: list[object], unanswered: int = 0) -> list[dict[str, object]]:
    """A unique-ids history: one invoke and ok per acknowledged id, and `unanswered`
    invokes that ended in info (a timeout), with a nemesis record among them."""
    history: list[dict[str, object]] = [{"process": "nemesis", "type": "info", "f": "start", "value": None}]
    for p, value in enumerate(acked):
        history.append({"process": p, "type": "invoke", "f": "generate", "value": None})
        history.append({"process": p, "type": "ok", "f": "generate", "value": value})
    for p in range(len(acked), len(acked) + unanswered):
        history.append({"process": p, "type": "invoke", "f": "generate", "value": None})
        history.append({"process": p, "type": "info", "f": "generate", "value": None})
    return history


def test_dense_ids_checker_known_good_and_known_bad() -> None:
    from distlab.checkers.unique_ids import check_dense

    assert check_dense(_ids_history([2, 0, 3, 1]))["valid"] is True
    assert check_dense(_ids_history([]))["valid"] is True
    gap = check_dense(_ids_history([0, 1, 3]))
    assert gap["valid"] is False and gap["gaps"] == [2]
    assert gap["explanation"].startswith("the ids skip 1 number(s) below 3 (2)")
    assert check_dense(_ids_history([0, 1, 3], unanswered=1))["valid"] is True  # the timeout took 2
    assert check_dense(_ids_history([1, 2, 3]))["valid"] is False  # 0 never handed out
    assert check_dense(_ids_history([0, 1, 1, 2]))["valid"] is False  # a duplicate
    assert check_dense(_ids_history([0, "1"]))["valid"] is False
    assert check_dense(_ids_history([0, True]))["valid"] is False  # JSON true is not 1
    assert check_dense(_ids_history([0, -1]))["valid"] is False


def test_dense_ids_checker_matches_brute_force() -> None:
    """Valid iff no id repeats and the missing numbers of 0..max number at most the
    unanswered requests, checked by building the sequence outright."""
    import random

    from distlab.checkers.unique_ids import check_dense

    rng = random.Random(7)
    for _ in range(500):
        acked = [rng.randrange(8) for _ in range(rng.randrange(7))]
        unanswered = rng.randrange(3)
        want = len(set(acked)) == len(acked) and any(
            set(acked) | set(extra) == set(range(len(acked) + len(extra)))
            for extra in _subsets(range(9), unanswered))
        assert (check_dense(_ids_history(acked, unanswered))["valid"] is True) == want, (acked, unanswered)


def _subsets(items: range, most: int) -> list[tuple[int, ...]]:
    from itertools import combinations

    return [c for k in range(most + 1) for c in combinations(items, k)]
