"""Hunt F: mistakes the course's graders used to pass (transactions, logger, elector,
gossiper, percolator, timekeeper) are now caught, and each task's reference still passes.

Each entry names a task and the mutants added by the hunt; the task must verify sound
(reference passes every scenario, every mutant fails with its phrase) and each named
mutant must be among the task's mutants, so deleting one is noticed too.
"""

from __future__ import annotations

import pytest

from tests.hunted import check_hunted

HUNTED: dict[str, list[str]] = {
    "elector/gossip-at-scale": ["any_mention"],
    "gossiper/crash-recovery": ["ack_once", "memory_only"],
    "logger/follower-reads": ["append_in_arrival_order"],
    "logger/kafka": ["skip_gap"],
    "percolator/node-kills": ["secondaries_first", "no_rollback_record"],
    "timekeeper/causal-crashes": ["forgets_waiting", "no_resend_on_restart"],
    "timekeeper/clock-survives-crashes": ["volatile", "unsynced", "reserve_once"],
    "transactions/two-phase-commit": ["txid_without_node"],
    "transactions/two-phase-recovery": ["abort_when_unreachable"],
}


@pytest.mark.parametrize("task_id", sorted(HUNTED))
def test_hunted_mistakes_are_caught_and_reference_passes(task_id: str) -> None:
    check_hunted(task_id, HUNTED[task_id])
