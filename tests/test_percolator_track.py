"""The Percolator course track (distlab/tracks/percolator): its graders tell the truth.

test_tracks.py verifies a fixed third of all tasks in CI; the module-graded tasks of this
track take a fraction of a second each, so all of them are verified here. The rest checks
the sentences a learner reads: column family contents in their terms, a handler that
raises named with its line, a starter that fails its grade without crashing it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from distlab.systems.percolator.storage import MemoryStorage
from distlab.tracks.catalogue import ROOT, load
from distlab.tracks.grading import grade, target_for
from distlab.tracks.verify import verify_task

TRACK = ROOT / "percolator"


def _kit() -> Any:
    spec = importlib.util.spec_from_file_location("_percolator_kit_test", TRACK / "kit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kit = _kit()
MODULE_TASKS = [t.id for t in load(ROOT).tasks.values() if t.id.startswith("percolator/") and t.kind == "module"]


def test_the_track_has_at_least_ten_tasks_in_order() -> None:
    track = next(t for t in load(ROOT).tracks if t.id == "percolator")
    assert len(track.tasks) >= 10
    assert track.tasks[0].name == "key-encoding"
    assert {t.kind for t in track.tasks} == {"module", "node"}


@pytest.mark.parametrize("task_id", MODULE_TASKS)
def test_module_task_is_sound(task_id: str, tmp_path: Path) -> None:
    """Reference passes every scenario; every mutant fails with its phrase."""
    task = load(ROOT).task(task_id)
    assert task is not None
    verdict = verify_task(task, store=tmp_path)
    assert verdict.ok, "; ".join(verdict.problems)


@pytest.mark.parametrize("task_id", MODULE_TASKS)
def test_starter_fails_in_sentences(task_id: str) -> None:
    """A starter is graded (it loads) and fails, each reason one line with no raw dict."""
    task = load(ROOT).task(task_id)
    assert task is not None
    results = grade(task, target_for(task, task.folder / "starter.py"))
    failed = [r for r in results if not r.passed]
    assert failed, f"{task_id}: the starter passes every scenario"
    for r in failed:
        assert "\n" not in r.reason and "{'" not in r.reason, r.reason


def test_missing_lock_is_said_in_column_family_terms() -> None:
    mine, want = MemoryStorage(), MemoryStorage()
    kit.prewritten(want, b"k1", b"k1", 100, b"v1", ttl=3000)
    with pytest.raises(kit.Wrong) as caught:
        kit.expect(mine, want, "after prewrite of k1 at ts 100")
    assert str(caught.value) == ("after prewrite of k1 at ts 100 the lock column holds nothing for k1; "
                                 "expected a lock with primary k1 at ts 100, ttl 3000, kind put")


def test_equal_stores_pass_and_a_stray_record_is_named() -> None:
    a, b = kit.twin(lambda s: kit.committed(s, b"k", b"v", 40, 42))
    kit.expect(a, b, "after nothing")
    kit.write(a, b"k", 50, 50, kit.WriteKind.ROLLBACK)
    with pytest.raises(kit.Wrong, match="rollback record at commit ts 50 from start ts 50"):
        kit.expect(a, b, "after a rollback")


def test_a_raising_handler_is_named_with_its_line(tmp_path: Path) -> None:
    learner = tmp_path / "solution.py"
    learner.write_text("class Server:\n    def __init__(self, storage):\n        self.storage = storage\n"
                       "    def kv_get(self, req):\n        return req['nope']\n")
    task = load(ROOT).task("percolator/get")
    assert task is not None
    results = grade(task, f"{learner}:Server")
    reason = results[0].reason
    assert "raised KeyError: 'nope'" in reason and "solution.py:5" in reason, reason


def test_the_world_loses_requests_as_connection_errors() -> None:
    w = kit.World()
    w.drop = lambda method, req: method == "kv_commit"
    with pytest.raises(ConnectionError):
        w.send("kv_commit", {"keys": [b"k"], "start_version": 1, "commit_version": 2})
    assert w.send("kv_get", {"key": b"k", "version": 5})["not_found"] is True
    assert w.oracle() < w.oracle()
