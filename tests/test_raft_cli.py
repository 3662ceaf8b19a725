"""`distlab raft-test`: the Raft scenarios on a learner's Raft (a factory in a file or a
module) or on distlab's own core with mutants; real subprocesses, as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from distlab.systems.raft.scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = str(ROOT / "tests" / "nodes" / "raft_plugins.py")


def raft_test(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "distlab", "raft-test", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_distlab_core_passes_every_scenario() -> None:
    proc = raft_test("--seeds", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{len(SCENARIOS)} scenarios: {len(SCENARIOS)} pass" in proc.stdout
    assert proc.stdout.count("PASS ") == len(SCENARIOS)


def test_a_mutant_fails_and_the_failure_can_be_rerun() -> None:
    proc = raft_test("--mutant", "accept-stale-append", "-s", "2b_*")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("FAIL"))
    assert "2b_stale_leader_appends" in line and "seed 1: SafetyViolation: durability" in line
    rerun = proc.stdout.split("re-run the first failure: ")[1].strip()
    assert rerun.endswith("--mutant accept-stale-append -s 2b_stale_leader_appends --first-seed 1")
    again = raft_test(*rerun.split()[2:])
    assert again.returncode == 1 and "durability" in again.stdout


def test_a_learners_raft_from_a_file_passes() -> None:
    proc = raft_test(f"{PLUGINS}:correct", "-s", "2a_*", "-s", "2c_persist*", "-s", "2d_snapshot_init",
                     "-s", "4a_*")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "11 scenarios: 11 pass" in proc.stdout


def test_a_learners_raft_from_a_module_passes() -> None:
    proc = raft_test("tests.nodes.raft_plugins:correct", "-s", "2b_basic_agree")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_raft_that_never_persists_its_log_is_caught() -> None:
    proc = raft_test(f"{PLUGINS}:forgets_log", "-s", "2c_*")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    fails = [ln for ln in proc.stdout.splitlines() if ln.startswith("FAIL")]
    assert len(fails) == sum(1 for n in SCENARIOS if n.startswith("2c_")), proc.stdout
    assert all("durability: committed entry 1" in ln for ln in fails), proc.stdout


def test_a_raft_whose_ready_never_drains_is_named() -> None:
    proc = raft_test(f"{PLUGINS}:never_done", "-s", "2a_initial_election")
    assert proc.returncode == 1
    assert "has_ready() still true after 10000 ready/advance rounds" in proc.stdout


def test_optional_methods_missing_skips_their_scenarios() -> None:
    proc = raft_test(f"{PLUGINS}:no_snapshots", "-s", "2d_snapshot_basic", "-s", "4a_*", "-s", "2a_re*")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SKIP 2d_snapshot_basic" in proc.stdout and "needs compact()" in proc.stdout
    assert "SKIP 4a_one_partition_read" in proc.stdout and "needs read_index()" in proc.stdout
    assert "PASS 2a_re_election" in proc.stdout


def test_an_endless_loop_times_out_and_the_run_goes_on() -> None:
    proc = raft_test(f"{PLUGINS}:hangs", "-s", "2a_re_election", "-s", "2a_initial_election",
                     "-s", "2a_many_elections", "--timeout", "1", timeout=60)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "TIME 2a_re_election" in proc.stdout and "TIME 2a_many_elections" in proc.stdout
    assert "PASS 2a_initial_election" in proc.stdout  # term 1 only: this one never loops
    assert "still running after 1 s" in proc.stdout


def test_an_exception_in_the_learners_code_names_its_line() -> None:
    proc = raft_test(f"{PLUGINS}:raises", "-s", "2b_basic_agree")
    assert proc.returncode == 1
    assert "KeyError" in proc.stdout and "raft_plugins.py:" in proc.stdout and "in step" in proc.stdout


@pytest.mark.parametrize("target,message", [
    ("nosuch_module_x:make", "cannot import 'nosuch_module_x': ModuleNotFoundError"),
    ("no_colon", "is not MODULE:FACTORY"),
    ("missing_file.py:make", "no such file: missing_file.py"),
    (f"{PLUGINS}:absent", "has no attribute 'absent'"),
    (f"{PLUGINS}:NOT_CALLABLE", "is a int, not a callable factory"),
    (f"{PLUGINS}:Incomplete", "the node lacks step, propose, has_ready, ready, advance, status, log"),
    (f"{PLUGINS}:mistyped", "tick is a int, not a method; step() cannot be called as step(message); "
                            "log lacks term_at (the tester needs"),
    ("tests.nodes.raft_plugins:HalfDone", "the node lacks has_ready, advance; propose() cannot be "
                                          "called as propose(command); status() lacks 'commit'"),
    ("distlab.systems.raft:RaftCore", "the factory failed to build a node"),
])
def test_bad_targets_get_one_line(target: str, message: str) -> None:
    proc = raft_test(target, "-s", "2a_initial_election")
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_bad_arguments() -> None:
    proc = raft_test("-s", "zz*")
    assert proc.returncode == 2 and "no scenario matches 'zz*'" in proc.stderr
    proc = raft_test(f"{PLUGINS}:correct", "--mutant", "vote-not-persisted")
    assert proc.returncode == 2 and "apply to distlab's own Raft" in proc.stderr
    proc = raft_test("--mutant", "no-such-bug")
    assert proc.returncode == 2 and "no-such-bug" in proc.stderr
    proc = raft_test("--list", "-s", "2d_*")
    assert proc.returncode == 0 and proc.stdout.split() == [n for n in SCENARIOS if n.startswith("2d_")]


def test_trace_shows_the_events_before_a_failure() -> None:
    proc = raft_test("--mutant", "vote-not-persisted", "-s", "2c_election_restarts", "--trace", "30")
    assert proc.returncode == 1
    assert "the tester's last 30 events before it:" in proc.stdout
    events = proc.stdout.split("events before it:")[1].splitlines()[1:31]
    assert all(line.startswith("    t") for line in events), events
    assert any("crashes" in line for line in events) and any('"k":"vote' in line for line in events)
    assert events[-1].rstrip().endswith("is leader in term 3 (commit 0)")  # the second leader
    assert proc.stdout.rstrip().endswith("--first-seed 1 --trace 30")
    assert "message keys: k kind" in proc.stdout and "lt that entry's term" in proc.stdout


def test_passing_scenarios_print_no_events() -> None:
    proc = raft_test("-s", "2a_initial_election", "--trace", "30")
    assert proc.returncode == 0 and "events before it" not in proc.stdout


LEARNER = '''
import dataclasses
from tests.nodes.raft_plugins import Adapter


class NoSnapshotLog:
    """A learner's log whose snapshot starts as None."""

    def __init__(self, log):
        self._log = log
        self.snapshot = None

    @property
    def snapshot_index(self):
        return self._log.snapshot_index

    @property
    def last_index(self):
        return self._log.last_index

    def term_at(self, index):
        return self._log.term_at(index)

    def entry(self, index):
        return self._log.entry(index)


class LaterNoneLog(NoSnapshotLog):
    """Has a snapshot object until the first entry, then None."""

    @property
    def snapshot(self):
        return self._log.snapshot if self._log.last_index == 0 else None

    @snapshot.setter
    def snapshot(self, value):
        pass


def snapshot_none(*args):
    node = Adapter(*args)
    node.log = NoSnapshotLog(node.core.log)
    return node


def snapshot_none_later(*args):
    node = Adapter(*args)
    node.log = LaterNoneLog(node.core.log)
    return node


class NoHardState(Adapter):
    def ready(self):
        self._real = self.core.ready()
        return dataclasses.replace(self._real, hard_state=None)

    def advance(self, rd):
        self.core.advance(self._real)
'''


@pytest.fixture
def learner(tmp_path: Path) -> str:
    path = tmp_path / "learner_raft.py"
    path.write_text(LEARNER)
    return str(path)


def test_a_snapshot_of_none_is_one_sentence_naming_the_learners_class(learner: str) -> None:
    proc = raft_test(f"{learner}:snapshot_none", "-s", "2a_*")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "log.snapshot is None" in proc.stderr and "index 0 and term 0" in proc.stderr
    assert f"NoSnapshotLog at {learner}:6" in proc.stderr
    assert "Traceback" not in proc.stderr and "AttributeError" not in proc.stderr


def test_a_none_read_by_the_tester_names_the_testers_line(learner: str) -> None:
    proc = raft_test(f"{learner}:snapshot_none_later", "-s", "2b_basic_agree")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("FAIL"))
    assert "'NoneType' object has no attribute" in line
    assert "in the tester at distlab/systems/raft/" in line and "log.snapshot" in line
    assert "reading what your node returned" in line


def test_a_ready_without_hard_state_is_pointed_out(learner: str) -> None:
    proc = raft_test(f"{learner}:NoHardState", "-s", "2c_persist1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("FAIL"))
    assert "election safety" in line
    assert "ready() never carried a hard_state" in line and "whom it voted for" in line


def test_a_ready_without_entries_is_pointed_out() -> None:
    proc = raft_test(f"{PLUGINS}:forgets_log", "-s", "2c_persist1")
    assert proc.returncode == 1
    assert "no log entry was ever stored: ready() never carried entries" in proc.stdout
    assert "hard_state" not in proc.stdout  # its term and vote were stored
