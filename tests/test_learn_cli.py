"""The learner's commands end to end through the real `distlab` console script: start,
check (starter fails with a sentence, reference passes), hint, progress, solution. The
catalogue is the package's messenger track alone (DISTLAB_TRACKS), progress in tmp_path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from distlab.tracks.catalogue import ROOT

ECHO = ROOT / "messenger" / "01-echo"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    tracks = tmp_path / "tracks"
    tracks.mkdir()
    (tracks / "messenger").mkdir()
    (tracks / "messenger" / "track.toml").write_bytes((ROOT / "messenger" / "track.toml").read_bytes())
    (tracks / "messenger" / "01-echo").symlink_to(ECHO)
    return dict(os.environ, DISTLAB_HOME=str(tmp_path / "home"), DISTLAB_TRACKS=str(tracks))


def distlab(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "distlab", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


def test_start_check_hint_solution(env: dict[str, str], tmp_path: Path) -> None:
    r = distlab(env, tmp_path, "start", "messenger")
    assert r.returncode == 0, r.stderr
    ws = tmp_path / "distlab-work" / "messenger"
    assert (ws / ".distlab-task").read_text().strip() == "messenger/echo"
    for name in ("statement.md", "node.py", "starter_raw.py"):
        assert (ws / name).is_file()
    assert "distlab check" in r.stdout

    r = distlab(env, ws, "check")  # the starter replies with an empty text
    assert r.returncode == 1
    assert "FAIL  one node  (seed 1): echo request" in r.stdout
    assert "replay: distlab replay" in r.stdout and "run dir: " in r.stdout
    reports = [line.split("report: ", 1)[1] for line in r.stdout.splitlines() if line.startswith("  report: ")]
    assert len(reports) == 1 and Path(reports[0]).is_file()  # the first failure gets its pictures

    r = distlab(env, ws, "solution", "messenger/echo")
    assert r.returncode == 1 and "not yet" in r.stderr and "msg.body" not in r.stdout

    first, second = distlab(env, ws, "hint"), distlab(env, ws, "hint")
    assert "hint 1 of" in first.stdout and "hint 2 of" in second.stdout
    assert first.stdout.split(":", 1)[1] != second.stdout.split(":", 1)[1]

    (ws / "node.py").write_bytes((ECHO / "reference.py").read_bytes())
    r = distlab(env, ws, "check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "PASS  three nodes, many clients  (seed 3)" in r.stdout and "passed" in r.stdout

    r = distlab(env, tmp_path, "progress")
    assert "1/1" in r.stdout and "echo" in r.stdout
    r = distlab(env, tmp_path, "solution", "messenger/echo")
    assert r.returncode == 0 and 'msg.body["echo"]' in r.stdout
    assert (tmp_path / "home" / "progress.json").is_file()

    r = distlab(env, tmp_path, "start", "messenger/echo", str(ws))  # node.py is the learner's now
    assert r.returncode == 2 and "--force" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_the_classic_mistake_is_named(env: dict[str, str], tmp_path: Path) -> None:
    r = distlab(env, tmp_path, "check", "messenger/echo", "--bin", str(ECHO / "mutants" / "subscript_message.py"))
    assert r.returncode == 1
    assert "TypeError: 'Message' object is not subscriptable" in r.stdout
    assert "subscript_message.py:10" in r.stdout


@pytest.mark.parametrize("args", [("check",), ("hint",), ("check", "messenger/echo", "--bin", "missing.py"),
                                  ("check", "nosuch/task"), ("start", "nosuch")])
def test_what_cannot_run_is_one_line_and_exit_2(env: dict[str, str], tmp_path: Path,
                                                  args: tuple[str, ...]) -> None:
    r = distlab(env, tmp_path, *args)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("error:")


def test_a_node_that_cannot_start_is_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from distlab import Node\nraise RuntimeError('no start')\n")
    r = distlab(env, tmp_path, "check", "messenger/echo", "--bin", str(bad))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "did not start" in r.stderr and "no start" in r.stderr


def test_tracks_lists_and_prints_json(env: dict[str, str], tmp_path: Path) -> None:
    r = distlab(env, tmp_path, "tracks")
    assert r.returncode == 0 and "messenger" in r.stdout and "0/1" in r.stdout
    r = distlab(env, tmp_path, "tracks", "messenger")
    assert r.returncode == 0 and "messenger/echo" in r.stdout and "Echo" in r.stdout
    r = distlab(env, tmp_path, "tracks", "--json")
    import json

    doc = json.loads(r.stdout)
    assert doc["tracks"][0]["tasks"][0]["id"] == "messenger/echo"
    r = distlab(env, tmp_path, "tracks", "--verify", "messenger")
    assert r.returncode == 0, r.stdout
    assert "messenger/echo" in r.stdout and "2/2" in r.stdout


def test_solution_opens_after_five_failed_checks(env: dict[str, str], tmp_path: Path) -> None:
    from distlab.tracks.progress import SOLUTION_AFTER_FAILS, Progress

    home = Path(env["DISTLAB_HOME"])
    progress = Progress({"messenger/echo": {"passed": False, "fails": SOLUTION_AFTER_FAILS, "hints": 0}},
                        home / "progress.json")
    progress.save()
    assert not list(home.glob(".progress-*"))  # written by rename: no temporary file left
    r = distlab(env, tmp_path, "solution", "messenger/echo")
    assert r.returncode == 0 and f"after {SOLUTION_AFTER_FAILS} failed checks" in r.stdout
    assert 'msg.body["echo"]' in r.stdout


def test_moving_on_keeps_the_passed_solution(env: dict[str, str], tmp_path: Path) -> None:
    """`start TRACK` after a pass, in the same workspace: the edited files go to
    done/<task>/ and the next starter takes their place; stale starters are removed."""
    tracks = Path(env["DISTLAB_TRACKS"])
    second = next(p for p in (ROOT / "messenger").iterdir() if p.name.startswith("02-"))
    (tracks / "messenger" / second.name).symlink_to(second)
    distlab(env, tmp_path, "start", "messenger")
    ws = tmp_path / "distlab-work" / "messenger"
    solution = (ECHO / "reference.py").read_bytes()
    (ws / "node.py").write_bytes(solution)
    assert distlab(env, ws, "check").returncode == 0
    r = distlab(env, tmp_path, "start", "messenger")
    assert r.returncode == 0, r.stderr
    assert "kept your passed messenger/echo in" in r.stdout
    assert (ws / "done" / "messenger-echo" / "node.py").read_bytes() == solution
    assert (ws / ".distlab-task").read_text().strip() != "messenger/echo"
    assert not (ws / "starter_raw.py").exists() or (second / "starter_raw.py").is_file()
    assert (ws / "node.py").read_bytes() == (second / "starter.py").read_bytes()


def test_moving_on_from_an_unpassed_task_still_refuses(env: dict[str, str], tmp_path: Path) -> None:
    distlab(env, tmp_path, "start", "messenger/echo")
    ws = tmp_path / "distlab-work" / "messenger"
    (ws / "node.py").write_text("# my work in progress\n")
    tracks = Path(env["DISTLAB_TRACKS"])
    second = next(p for p in (ROOT / "messenger").iterdir() if p.name.startswith("02-"))
    (tracks / "messenger" / second.name).symlink_to(second)
    r = distlab(env, tmp_path, "start", f"messenger/{second.name[3:]}")
    assert r.returncode == 2 and "has your edits" in r.stderr
    assert (ws / "node.py").read_text() == "# my work in progress\n"


def test_start_from_inside_a_workspace_uses_it_or_a_sibling(env: dict[str, str], tmp_path: Path) -> None:
    """Run from inside a workspace, `start` never nests a distlab-work/ in it: the same
    track continues in place, another track gets a folder beside it."""
    tracks = Path(env["DISTLAB_TRACKS"])
    second = next(p for p in (ROOT / "messenger").iterdir() if p.name.startswith("02-"))
    (tracks / "messenger" / second.name).symlink_to(second)
    (tracks / "store").mkdir()
    (tracks / "store" / "track.toml").write_bytes((ROOT / "store" / "track.toml").read_bytes())
    first_store = next(p for p in (ROOT / "store").iterdir() if p.name.startswith("01-"))
    (tracks / "store" / first_store.name).symlink_to(first_store)
    distlab(env, tmp_path, "start", "messenger")
    ws = tmp_path / "distlab-work" / "messenger"
    (ws / "node.py").write_bytes((ECHO / "reference.py").read_bytes())
    assert distlab(env, ws, "check").returncode == 0
    r = distlab(env, ws, "start", "messenger")
    assert r.returncode == 0, r.stderr
    assert not (ws / "distlab-work").exists()
    assert (ws / ".distlab-task").read_text().strip() == f"messenger/{second.name[3:]}"
    assert "  distlab check" in r.stdout.splitlines()
    r = distlab(env, ws, "start", "store")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "distlab-work" / "store" / ".distlab-task").is_file() and not (ws / "distlab-work").exists()
