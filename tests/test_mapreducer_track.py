"""The MapReducer course track (distlab/tracks/mapreducer): its graders tell the truth.

test_tracks.py verifies a fixed third of all tasks in CI. Here every module-graded task
whose grading takes well under a second is verified (reference passes, each mutant fails
with its phrase), the stragglers task too (its check is this track's own, not mr-test's),
starters fail in sentences, and the graders' own answers are compared with brute force:
the in-process job with distlab's sequential MapReduce, the hash join's sum with a
nested loop over every pair of rows.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

from distlab.systems.gocourse.hashjoin import write_tables
from distlab.systems.mapreduce import sequential
from distlab.systems.mapreduce.apps import load as load_app
from distlab.systems.mapreduce.apps import wc
from distlab.systems.mapreduce.inputs import write_inputs
from distlab.systems.raft.suite import load_factory
from distlab.tracks.catalogue import ROOT, load
from distlab.tracks.grading import grade, target_for
from distlab.tracks.verify import verify_task

TRACK = ROOT / "mapreducer"
PROGRAM_TASKS = ("coordinator", "parallel-workers", "crashes", "stragglers", "worker")
"""Graded by running the learner's program as processes: seconds to tens of seconds each."""


def _load(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kit = _load(TRACK / "kit.py", "_mapreducer_kit_test")
TASKS = [t for t in load(ROOT).tasks.values() if t.track == "mapreducer"]
FAST_TASKS = [t.id for t in TASKS if t.name not in PROGRAM_TASKS]


def test_the_track_has_at_least_ten_tasks_in_order() -> None:
    track = next(t for t in load(ROOT).tracks if t.id == "mapreducer")
    assert len(track.tasks) >= 10
    assert [t.name for t in track.tasks][:2] == ["word-count", "partitioning"]
    assert {t.kind for t in track.tasks} == {"module"}
    assert track.category == "Batch"


@pytest.mark.parametrize("task_id", [*FAST_TASKS, "mapreducer/stragglers"])
def test_task_is_sound(task_id: str, tmp_path: Path) -> None:
    """Reference passes every scenario; every mutant fails with its phrase."""
    task = load(ROOT).task(task_id)
    assert task is not None
    verdict = verify_task(task, store=tmp_path)
    assert verdict.ok, "; ".join(verdict.problems)


@pytest.mark.parametrize("task_id", FAST_TASKS)
def test_starter_fails_in_sentences(task_id: str) -> None:
    """A starter is graded (it loads) and fails, each reason one line with no raw dict."""
    task = load(ROOT).task(task_id)
    assert task is not None
    results = grade(task, target_for(task, task.folder / "starter.py"))
    failed = [r for r in results if not r.passed]
    assert failed, f"{task_id}: the starter passes every scenario"
    for r in failed:
        assert "\n" not in r.reason and "{'" not in r.reason, r.reason


@pytest.mark.parametrize("name", PROGRAM_TASKS)
def test_program_starters_load_and_name_their_main(name: str) -> None:
    """A program task's starter imports without running (its main is what gets graded)."""
    task = load(ROOT).task(f"mapreducer/{name}")
    assert task is not None and task.grader.get("factory") == "main"
    for file in (task.folder / "starter.py", task.reference):
        assert callable(load_factory(f"{file}:main"))


def test_a_miscount_is_said_as_a_word_and_two_counts() -> None:
    assert kit.compare({"été": "4", "mat": "2"}, {"été": "3", "mat": "2"}) == "word 'été' counted 3 times, expected 4"
    assert kit.compare({"a": "1"}, {}) == "word 'a' is missing from the output; expected it counted 1 time"
    assert "is not a word of the input" in kit.compare({}, {"mat.": "1"})
    assert kit.compare({"a": "1"}, {"a": "1"}) is None


def test_the_in_process_job_equals_distlab_sequential_mapreduce(tmp_path: Path) -> None:
    files = write_inputs(tmp_path, seed=3, words=400)
    want = {line.rsplit(" ", 1)[0]: line.rsplit(" ", 1)[1].strip()
            for line in sequential.run(load_app("wc"), files)}
    for n_reduce in (1, 3, 7):
        assert kit.run_job(wc.map_fn, wc.reduce_fn, files, n_reduce=n_reduce) == want


def test_a_map_returning_non_strings_is_named(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_text("a b a\n")
    with pytest.raises(kit.Wrong, match=r"returned the pair \('a', 1\); keys and values are strings"):
        kit.run_job(lambda f, c: [(w, 1) for w in c.split()], lambda k, v: str(len(v)), [str(path)])


def _nested_loop(f0: str, f1: str, offsets0: tuple[int, ...], offsets1: tuple[int, ...]) -> int:
    rows0 = [line.split(",") for line in Path(f0).read_text().splitlines() if line]
    rows1 = [line.split(",") for line in Path(f1).read_text().splitlines() if line]
    total = sum(int(a[0]) for a in rows0 for b in rows1
                if all(a[i] == b[j] for i, j in zip(offsets0, offsets1, strict=True)))
    return total & ((1 << 64) - 1)


def test_the_join_graders_sum_equals_a_nested_loop(tmp_path: Path) -> None:
    grader = _load(TRACK / "12-hash-join" / "grader.py", "_mapreducer_join_grader_test")
    tables = write_tables(tmp_path, seed=2, scale=0.05)
    sums = []
    for case in grader.ALL:
        f0, f1 = tables[case.left], tables[case.right]
        sums.append(grader.expected(f0, f1, case.offsets0, case.offsets1))
        assert sums[-1] == _nested_loop(f0, f1, case.offsets0, case.offsets1), case.describe()
    assert sums[-1] > 0, "the many-to-many case finds no pair: it would not catch a one-row-per-key table"


def test_job_processes_get_salted_hashes_and_the_pin_comes_back() -> None:
    before = os.environ.get("PYTHONHASHSEED")
    os.environ["PYTHONHASHSEED"] = "0"
    try:
        with kit.salted_hashes():
            assert "PYTHONHASHSEED" not in os.environ
        assert os.environ["PYTHONHASHSEED"] == "0"
    finally:
        if before is None:
            os.environ.pop("PYTHONHASHSEED", None)
        else:
            os.environ["PYTHONHASHSEED"] = before


def test_merge_sort_counts_only_the_workers_it_started() -> None:
    """Graded inside a process that already has children (a test suite, a verify pool),
    the threads mutant still sees 0 worker processes, and the reference still passes."""
    import subprocess

    from distlab.tracks.catalogue import load
    from distlab.tracks.verify import verify_task

    kids = [subprocess.Popen(["sleep", "30"]) for _ in range(3)]
    try:
        verdict = verify_task(load().tasks["mapreducer/merge-sort"])
    finally:
        for kid in kids:
            kid.kill()
            kid.wait()
    assert verdict.ok, verdict.problems
