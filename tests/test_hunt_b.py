"""Hunt B: mistakes the course's graders used to pass (percolator, counter, logger,
timekeeper, transactions, gossiper) are now caught, and each task's reference still passes.

Each entry names a task and the mutants added by the hunt; the task must verify sound
(reference passes every scenario, every mutant fails with its phrase) and each named
mutant must be among the task's mutants, so deleting one is noticed too.
"""

from __future__ import annotations

import pytest

from distlab.tracks.catalogue import load
from distlab.tracks.verify import verify_task

HUNTED: dict[str, list[str]] = {
    "percolator/prewrite": ["conflict_ignores_rollback"],
    "percolator/commit": ["newest_record"],
    "percolator/rollback": ["newest_record"],
    "percolator/resolve-lock": ["commits_as_put", "newest_record"],
    "percolator/client": ["commit_ts_first", "fresh_secondary_ts", "lost_reply_is_abort"],
    "percolator/node": ["blind_row_write"],
    "counter/stateless-counter": ["blind_write", "no_sync_write"],
    "counter/or-set-partitions": ["gossip_when_dirty"],
    "timekeeper/clock-survives-crashes": ["reserve_once"],
    "timekeeper/causal-partitions": ["clear_after_ack"],
    "timekeeper/causal-crashes": ["forgets_waiting", "no_resend_on_restart"],
    "timekeeper/hlc-survives-crashes": ["forgets_c"],
    "transactions/snapshot-isolation": ["data_from_snapshot"],
    "transactions/session-reads": ["adopt_always", "no_adopt_after_commit"],
    "transactions/serializable-snapshot": ["reads_of_present_keys"],
    "transactions/durable-transactions": ["string_order"],
    "transactions/two-phase-recovery": ["decide_after_deliver", "no_epoch"],
    "transactions/snapshot-reads": ["ts_before_prepare"],
    "logger/claim-slots": ["no_own_check"],
    "gossiper/pauses": ["in_flight_stuck"],
    "gossiper/lossy-acks": ["ack_to_current_end"],
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
