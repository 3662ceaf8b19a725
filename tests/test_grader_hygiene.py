"""Grading leaves nothing behind in the current directory.

`distlab tracks --verify` gives every grade its own store, and `distlab check` keeps runs
in the workspace's; a module grader that runs a lab on the learner's node (the Sharder
track's kit) must keep its runs there too, not in a `./store` of wherever it was started.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from distlab.tracks.catalogue import ROOT, load
from distlab.tracks.grading import _takes_store, grade, target_for
from distlab.tracks.verify import verify_task


def test_verifying_a_sharder_lab_task_leaves_the_cwd_empty(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    cwd, store = tmp_path / "cwd", tmp_path / "store"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    task = load(ROOT).task("sharder/controller-node")
    assert task is not None
    verdict = verify_task(task, store=store)
    assert verdict.ok, "; ".join(verdict.problems)
    assert sorted(p.name for p in cwd.iterdir()) == []
    # the runs went where verify said: the reference's grade and each mutant's
    assert list((store / "reference").rglob("results.json"))
    assert list((store / "mutant0").rglob("results.json"))


def test_verify_without_a_store_leaves_the_cwd_empty(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    task = load(ROOT).task("sharder/controller-node")
    assert task is not None
    assert verify_task(task).ok
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_check_keeps_the_runs_in_the_store_it_is_given(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """As `distlab check` grades: the starter fails, and its runs are in the given store."""
    cwd, store = tmp_path / "cwd", tmp_path / "ws" / "store"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    task = load(ROOT).task("sharder/controller-node")
    assert task is not None
    results = grade(task, target_for(task, task.folder / "starter.py"), store=store)
    assert not all(r.passed for r in results)
    assert list(cwd.iterdir()) == []
    assert list(store.rglob("config.json"))


def test_every_lab_running_grader_takes_the_store() -> None:
    """A grader that calls the kit's run_lab must take `store` (else it cannot pass it on)."""
    import importlib.util

    found = 0
    for path in sorted(ROOT.glob("*/*/grader.py")):
        if "run_lab(" not in path.read_text():
            continue
        spec = importlib.util.spec_from_file_location(f"_hygiene_{path.parent.name}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert _takes_store(module.run), f"{path}: run() takes no store"
        found += 1
    assert found >= 6
