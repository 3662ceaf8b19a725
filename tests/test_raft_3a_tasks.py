"""The Raft track's TinyKV 3A tasks (membership change, leader transfer): they are in the
catalogue after the 2A-2D tasks, their starters import and build a node the tester
accepts, and a Raft lacking an optional 3A member is told so in words that fit it (an
attribute is not called a method)."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pytest

from distlab.systems.raft import Persisted
from distlab.systems.raft.interface import check_raft
from distlab.tracks.catalogue import ROOT, load
from distlab.tracks.grading import grade, target_for

TASKS = ("raft/membership-change", "raft/leader-transfer")
NODES = Path(__file__).resolve().parent / "nodes"


@pytest.fixture(scope="module")
def catalogue():
    return load(ROOT)


def _import(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_tasks_are_last_in_the_raft_track(catalogue) -> None:
    track = catalogue.track("raft")
    assert [t.id for t in track.tasks][-2:] == list(TASKS)
    transfer = catalogue.task("raft/leader-transfer")
    assert transfer.prerequisites == ["raft/membership-change"]
    for task_id in TASKS:
        task = catalogue.task(task_id)
        assert task.kind == "raft"
        assert len(task.mutants) >= 2
        assert all(m.file.suffix == ".patch" for m in task.mutants)
        assert len(task.hints()) >= 2


@pytest.mark.parametrize("task_id", TASKS)
def test_starter_imports_and_fits_the_interface(catalogue, task_id: str) -> None:
    task = catalogue.task(task_id)
    module = _import(task.starter, f"_starter_{task.name.replace('-', '_')}")
    node = module.make("s0", ["s0", "s1", "s2"], random.Random(1), Persisted())
    assert check_raft(node) is None
    assert set(node.members) == {"s0", "s1", "s2"}
    outsider = module.make("s3", ["s0", "s1", "s2"], random.Random(1), Persisted())
    assert "s3" not in outsider.members  # the starter already says who is not a voter
    assert callable(getattr(node, "transfer_leader", None)) == (task_id == "raft/leader-transfer")


def test_reference_passes_the_membership_task(catalogue) -> None:
    task = catalogue.task("raft/membership-change")
    results = grade(task, target_for(task, task.reference))
    assert results and all(r.passed for r in results), [r.reason for r in results if not r.passed]


def test_a_missing_attribute_is_not_called_a_method(catalogue) -> None:
    """tests/nodes/raft_plugins_3a.py:transfers_only has transfer_leader but no members:
    the membership scenarios are skipped, and the reason names `members` as what it is."""
    task = catalogue.task("raft/membership-change")
    results = grade(task, f"{NODES / 'raft_plugins_3a.py'}:transfers_only")
    assert results and not any(r.passed for r in results)
    reason = results[0].reason
    assert reason.startswith("your Raft lacks members, the voters in force"), reason
    assert reason.endswith("which this scenario needs"), reason
    assert "method" not in reason


def test_a_missing_method_is_named_with_its_parentheses(catalogue) -> None:
    """The read-index task's reference has neither 3A member: each skipped transfer
    scenario names transfer_leader() (and members where the scenario needs both)."""
    task = catalogue.task("raft/leader-transfer")
    reference = catalogue.task("raft/read-index").reference
    reasons = {r.name: r.reason for r in grade(task, target_for(task, reference)) if r.seed == 1}
    assert reasons["3a_leader_transfer_to_self"] == (
        "your Raft lacks transfer_leader(), which this scenario needs")
    both = reasons["3a_transfer_non_member"]
    assert both.startswith("your Raft lacks transfer_leader() and members, the voters in force"), both
