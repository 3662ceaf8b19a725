"""`distlab tracks --verify` stops grading a mutant at its first failure that says the
mutant's phrase (the verdict needs one), and still grades every scenario of a mutant it
has not caught yet, so a miss is still reported with the first reason seen."""

from __future__ import annotations

from pathlib import Path

from distlab.tracks.catalogue import load
from distlab.tracks.grading import grade, target_for
from distlab.tracks.verify import verify_task

TRACK = 'title = "Demo"\ncategory = "Foundations"\norder = 1\nsummary = "s"\n'
SCENARIOS = ('[[scenario]]\nname = "first"\nworkload = "echo"\nseeds = [1, 2]\noptions = { time_limit = 2 }\n'
             '[[scenario]]\nname = "second"\nworkload = "echo"\nseeds = [1]\noptions = { time_limit = 2 }\n')
ECHO_OK = ('from distlab import Node\nnode = Node()\n@node.on("echo")\ndef echo(msg):\n'
           '    return {"type": "echo_ok", "echo": msg.body["echo"]}\nnode.run()\n')
ECHO_WRONG = ECHO_OK.replace('msg.body["echo"]', '"something else"')


def _task(root: Path, fails: str):
    task_dir = root / "demo" / "01-first"
    (task_dir / "mutants").mkdir(parents=True)
    (root / "demo" / "track.toml").write_text(TRACK)
    (task_dir / "task.toml").write_text('title = "First"\nsummary = "s"\nkind = "node"\n' + SCENARIOS
                                        + f'[[mutant]]\nfile = "mutants/wrong.py"\nfails = "{fails}"\n')
    for name in ("statement.md", "starter.py"):
        (task_dir / name).write_text("")
    (task_dir / "reference.py").write_text(ECHO_OK)
    (task_dir / "mutants" / "wrong.py").write_text(ECHO_WRONG)
    task = load(root).task("demo/first")
    assert task is not None
    return task, task_dir / "mutants" / "wrong.py"


def test_grade_stops_at_the_first_result_it_is_told_to(tmp_path: Path) -> None:
    task, mutant = _task(tmp_path, "echo")
    every = grade(task, target_for(task, mutant), store=tmp_path / "all")
    assert [(r.name, r.seed, r.passed) for r in every] == [("first", 1, False), ("first", 2, False),
                                                          ("second", 1, False)]
    first = grade(task, target_for(task, mutant), store=tmp_path / "one", until=lambda r: not r.passed)
    assert [(r.name, r.seed) for r in first] == [("first", 1)]
    assert first[0].reason == every[0].reason


def test_verify_catches_the_mutant_on_its_first_run(tmp_path: Path) -> None:
    probe, mutant = _task(tmp_path / "probe", "x")
    reason = grade(probe, target_for(probe, mutant), store=tmp_path / "probe-store")[0].reason
    phrase = reason.split(":")[0].strip().lower()
    assert phrase
    task, _ = _task(tmp_path / "t", phrase.replace('"', ""))
    verdict = verify_task(task, store=tmp_path / "store")
    assert verdict.ok, verdict.problems
    assert verdict.mutants_caught == 1
    runs = [p for p in (tmp_path / "store" / "mutant0").rglob("results.json")]
    assert len(runs) == 1  # one run of the mutant, not three


def test_a_mutant_missing_its_phrase_is_still_graded_everywhere(tmp_path: Path) -> None:
    task, _ = _task(tmp_path, "a phrase no reason contains")
    verdict = verify_task(task, store=tmp_path / "store")
    assert not verdict.ok and verdict.mutants_caught == 0
    assert any("no reason mentions 'a phrase no reason contains'" in p for p in verdict.problems), verdict.problems
    runs = [p for p in (tmp_path / "store" / "mutant0").rglob("results.json")]
    assert len(runs) == 3
