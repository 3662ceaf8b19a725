"""Hunt B: mistakes the course's graders used to pass (percolator, counter, logger,
timekeeper, transactions, gossiper) are now caught, and each task's reference still passes.

Each entry names a task and the mutants added by the hunt; the task must verify sound
(reference passes every scenario, every mutant fails with its phrase) and each named
mutant must be among the task's mutants, so deleting one is noticed too. The node tasks
(seconds each) run under ``pytest -m slow``; tests/test_tracks.py verifies them too.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from distlab.tracks.catalogue import load
from tests.hunted import check_hunted

HUNTED: dict[str, list[str]] = {
    "percolator/prewrite": ["conflict_ignores_rollback"],
    "percolator/commit": ["newest_record"],
    "percolator/rollback": ["newest_record"],
    "percolator/resolve-lock": ["commits_as_put", "newest_record"],
    "percolator/client": ["commit_ts_first", "fresh_secondary_ts", "lost_reply_is_abort"],
    "percolator/node": ["blind_row_write"],
    "counter/g-counter": ["no_sync"],
    "counter/pn-counter": ["no_sync"],
    "counter/two-phase-set": ["remove_if_present"],
    "counter/stateless-counter": ["blind_write", "no_sync_write"],
    "counter/or-set-partitions": ["gossip_when_dirty"],
    "timekeeper/clock-survives-crashes": ["reserve_once"],
    "timekeeper/causal-partitions": ["clear_after_ack"],
    "timekeeper/causal-crashes": ["forgets_waiting", "no_resend_on_restart"],
    "timekeeper/hybrid-logical-clock": ["c_never_resets"],
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


FAST = {"percolator/prewrite", "percolator/commit", "percolator/rollback", "percolator/resolve-lock",
        "percolator/client"}  # graded in milliseconds (module tasks); the rest run simulations


@pytest.mark.parametrize("task_id", [t if t in FAST else pytest.param(t, marks=pytest.mark.slow)
                                     for t in sorted(HUNTED)])
def test_hunted_mistakes_are_caught_and_reference_passes(task_id: str) -> None:
    check_hunted(task_id, HUNTED[task_id])


def _load(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# (task, the scenario added for it, the mistake, a phrase of the sentence it must produce)
NEW_SCENARIOS = [
    ("percolator/prewrite", "a late prewrite after this transaction's rollback", "conflict_ignores_rollback",
     "expected a write conflict error"),
    ("percolator/commit", "a commit after a rollback and a newer commit", "newest_record",
     "expected an abort error"),
    ("percolator/rollback", "a key never prewritten, over an older commit", "newest_record",
     "answered an abort error; expected no error"),
    ("percolator/resolve-lock", "commit a delete and a lock-only mutation", "commits_as_put",
     "expected a delete record"),
    ("percolator/resolve-lock", "roll back every lock of one transaction", "newest_record",
     "answered an abort error"),
    ("percolator/client", "prewrite all, then the primary alone, then the rest", "commit_ts_first",
     "before the last prewrite"),
    ("percolator/client", "prewrite all, then the primary alone, then the rest", "fresh_secondary_ts",
     "one transaction has one commit_ts"),
    ("percolator/client", "the primary's commit reply lost", "lost_reply_is_abort",
     "its primary's commit had landed"),
]


@pytest.mark.parametrize(("task_id", "scenario", "mutant", "phrase"), NEW_SCENARIOS,
                         ids=[f"{t}:{m}" for t, _, m, _ in NEW_SCENARIOS])
def test_new_scenario_fails_the_mistake_and_passes_the_reference(
        tmp_path: Path, task_id: str, scenario: str, mutant: str, phrase: str) -> None:
    """The scenario added for a mistake says so in the learner's terms; the reference passes it."""
    task = load().task(task_id)
    assert task is not None
    grader = _load(task.folder / "grader.py", f"_hunt_b_grader_{mutant}")
    assert scenario in grader.scenarios()
    factory = task.grader.get("factory", "Server")
    good = getattr(_load(task.reference, f"_hunt_b_ref_{mutant}"), factory)
    assert grader.run(scenario, good, 1) is None
    (m,) = [m for m in task.mutants if m.file.stem == mutant]
    bad = getattr(_load(m.materialize(task.reference, tmp_path / "mutant"), f"_hunt_b_bad_{mutant}"), factory)
    reason = grader.run(scenario, bad, 1)
    assert reason is not None and phrase in reason, reason


# ---- the hlc checker: c starts again at 0 when a node's own clock opens a new l ----------------


def _stamps(*ops: tuple[str, Any, Any, str]) -> list[dict[str, Any]]:
    """A history of stamp calls, one after another: (node, seen, ts, outcome)."""
    out: list[dict[str, Any]] = []
    for p, (node, seen, ts, outcome) in enumerate(ops):
        out.append({"index": len(out), "time": len(out) * 10_000, "process": p, "type": "invoke",
                    "f": "stamp", "value": {"node": node, "seen": seen}})
        done = {"node": node, "seen": seen, "ts": ts} if outcome == "ok" else {"node": node, "seen": seen}
        out.append({"index": len(out), "time": len(out) * 10_000, "process": p, "type": outcome,
                    "f": "stamp", "value": done})
    return out


def test_hlc_c_must_restart_when_the_clock_opens_a_new_l() -> None:
    from distlab.checkers import hlc

    good = _stamps(("n0", None, [0, 1], "ok"), ("n0", None, [0, 2], "ok"), ("n0", [0, 2], [0, 3], "ok"),
                   ("n1", [0, 3], [0, 4], "ok"))
    assert hlc.check(good)["valid"] is True
    # l = 1 is within SLACK_MS of the clocks (all near 0 ms): a new l, so c must be 0
    bad = _stamps(("n0", None, [0, 1], "ok"), ("n0", None, [1, 2], "ok"))
    r = hlc.check(bad)
    assert r["valid"] is False and r["c_not_reset_count"] == 1, r
    assert "c starts again at 0" in r["explanation"]
    fine = _stamps(("n0", None, [0, 1], "ok"), ("n0", None, [1, 0], "ok"), ("n0", None, [1, 1], "ok"))
    assert hlc.check(fine)["valid"] is True
    # l taken from the request's seen: c = seen's c + 1 is right
    assert hlc.check(_stamps(("n1", None, [1, 0], "ok"), ("n0", [1, 0], [1, 1], "ok")))["valid"] is True
    # a stamp of unknown outcome may have opened that l first: not judged
    lost = _stamps(("n0", None, [0, 1], "ok"), ("n0", None, None, "info"), ("n0", None, [1, 1], "ok"))
    assert hlc.check(lost)["c_not_reset_count"] == 0
