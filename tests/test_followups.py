"""Follow-ups to a review, each pinned.

* kv-lab on a node that writes no `raft {...}` trace lines says so on each PASS line
  ("Raft safety not checked: ..."), in shard-lab's words (one shared helper).
* region-lab's shape checks of the learner's --split and --pd pieces are bounded by
  --timeout, as the --raft factory's is: a call that never returns ends the command with
  one `error:` line naming it, exit 2.
* 3a_transfer_and_conf_change_churn checks durability against the configuration in force
  (five voters, four, three), not three throughout: a Raft that commits on two disks of
  four or five voters is caught; the correct core passes seeds 1-30.
* In --mode process a configured fail point no node reaches is a warning and
  `fail_points.unreached`, as in the simulator: each node says which points it set up and
  when it first evaluates each (SDK records); a node that says nothing leaves it unknown.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from distlab import fail
from distlab.checkers.raft_trace import Tracer
from distlab.options import TestOptions
from distlab.runner import Runner, run_test
from distlab.systems.kvraft import NODE_PATH
from distlab.systems.kvraft.lab import NO_RAFT_TRACE, Lab, raft_note, run_scenario
from distlab.systems.raft import scenarios_3a
from distlab.systems.raft.core import Persisted, RaftCore
from distlab.systems.raft.invariants import Invariants, SafetyViolation

ROOT = Path(__file__).resolve().parents[1]

# distlab's kvraft writing no trace lines, as a learner's node on its own Raft may. Loading
# it silences Tracer in the whole process: in-process tests put it back (monkeypatch).
TRACELESS_KVRAFT = '''
from pathlib import Path
import distlab.systems.kvraft
from distlab import fail
from distlab.checkers.raft_trace import Tracer
from distlab.options import TestOptions
from distlab.runner import Runner, run_test

Tracer._write = lambda self, event: None
NODE = Path(distlab.systems.kvraft.__file__).with_name("node.py")
exec(compile(NODE.read_text(), str(NODE), "exec"))
'''


def distlab(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "distlab", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def traceless_kvraft(tmp_path: Path) -> Path:
    node = tmp_path / "traceless_kvraft.py"
    node.write_text(TRACELESS_KVRAFT)
    return node


# ----- 1. kv-lab PASS lines on a traceless node --------------------------------------------

def test_raft_note_speaks_only_when_a_run_had_no_trace() -> None:
    checked = {"raft_safety": {"valid": True, "violations": []}}
    assert raft_note("one client", [checked]) == "one client"
    assert raft_note("one client", [checked, {}]) == f"one client; {NO_RAFT_TRACE}"
    assert NO_RAFT_TRACE == "Raft safety not checked: the nodes wrote no raft trace lines"


def test_kv_lab_3a_pass_on_a_traceless_node_says_raft_was_not_checked(tmp_path: Path) -> None:
    proc = distlab("kv-lab", "--bin", str(traceless_kvraft(tmp_path)), "-s", "3a_basic",
                   "--store", str(tmp_path / "store"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("PASS"))
    assert "3a_basic" in line and NO_RAFT_TRACE in line, line
    # kvraft as shipped writes them: its pass is checked and says nothing of it
    proc = distlab("kv-lab", "--bin", NODE_PATH, "-s", "3a_basic",
                   "--store", str(tmp_path / "store"), cwd=tmp_path)
    assert proc.returncode == 0 and "PASS 3a_basic" in proc.stdout, proc.stdout + proc.stderr
    assert "not checked" not in proc.stdout


def test_run_scenario_in_process_on_a_traceless_node(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # the node silences Tracer in this (simulator's) process: put it back for later tests
    monkeypatch.setattr(Tracer, "_write", Tracer._write)
    lab = Lab(str(traceless_kvraft(tmp_path)), store=str(tmp_path / "store"))
    detail = run_scenario(lab, "3a_unreliable_one_key")
    assert detail == f"one key; {NO_RAFT_TRACE}"


# ----- 2. region-lab --split / --pd shape checks under --timeout --------------------------

PIECE_REGION = """
from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    id: int
    start: bytes
    end: bytes
    version: int
    conf_ver: int
"""

HANGING_PIECES = {
    "split_keys": PIECE_REGION + """

def split(region, keys, new_ids):
    return [region]


def split_keys(entries, max_size, split_size):
    while True:
        pass
""",
    "RegionTable()": PIECE_REGION + """

class RegionTable:
    def __init__(self):
        while True:
            pass
""",
    "balance(": """
from dataclasses import dataclass


@dataclass(frozen=True)
class Store:
    id: int
    up: bool
    region_size: int


@dataclass(frozen=True)
class RegionInfo:
    id: int
    size: int
    peers: tuple


def balance(stores, regions, max_replicas):
    while True:
        pass
""",
}


@pytest.mark.parametrize("call", list(HANGING_PIECES))
def test_region_lab_bounds_a_piece_that_never_returns(tmp_path: Path, call: str) -> None:
    piece = tmp_path / "hangs.py"
    piece.write_text(HANGING_PIECES[call])
    flag = "--split" if call == "split_keys" else "--pd"
    proc = subprocess.run([sys.executable, "-m", "distlab", "region-lab", flag, str(piece),
                           "-s", "*Split*", "--timeout", "0.5"],
                          capture_output=True, text=True, cwd=ROOT, timeout=15)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert f"{flag} {piece}: {call}" in lines[0] and "did not return within 0.5 s" in lines[0], lines[0]
    assert "Traceback" not in proc.stdout + proc.stderr and "PASS" not in proc.stdout


def test_pieces_that_return_are_checked_as_before() -> None:
    """The guard changes nothing for pieces that return: the track's references load."""
    from distlab.systems.multiraft.pieces import load_pieces

    tracks = ROOT / "distlab" / "tracks" / "sharder"
    pieces = load_pieces(split=f"{tracks / '12-region-split' / 'reference.py'}:split_keys",
                         pd=[str(tracks / "14-heartbeats" / "reference.py")], timeout=5.0)
    assert pieces.split is not None and pieces.table is not None


# ----- 3. 3a_transfer_and_conf_change_churn: durability against the voters in force ----------

class SelfTwice(RaftCore):
    """distlab's core counting the leader's own copy twice when it commits: with four or
    five voters an entry commits on the leader and one follower, two disks."""

    def _maybe_commit(self) -> None:
        self.progress["twice"] = SimpleNamespace(match=self.log.last_index)  # type: ignore[assignment]
        try:
            super()._maybe_commit()
        finally:
            del self.progress["twice"]


def self_twice(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> Any:
    return SelfTwice(node_id, peers, rng, None, persisted)


def test_churn_checks_durability_against_five_voters_then_the_configuration_in_force(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    check = Invariants.durability

    def recording(self: Invariants, disks: Any) -> None:
        seen.append(self.n)
        check(self, disks)

    monkeypatch.setattr(Invariants, "durability", recording)
    scenarios_3a.churn(1)
    assert seen[0] == 5, seen[:5]  # five voters from the start, not three
    assert {5, 4} <= set(seen) and set(seen) <= {3, 4, 5}, sorted(set(seen))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_churn_catches_a_raft_committing_on_two_disks(seed: int) -> None:
    with pytest.raises(SafetyViolation, match=r"durability: committed entry \d+ .* is on 2 of [45] disks"):
        scenarios_3a.churn(seed, self_twice)


def test_churn_passes_the_correct_core_on_seeds_1_to_30() -> None:
    for seed in range(1, 31):
        scenarios_3a.churn(seed)


# ----- 5. process mode: configured fail points no node reached --------------------------------

def test_a_point_reports_its_first_evaluation_once() -> None:
    seen: list[str] = []
    fail.teardown()
    fail.set_reach_handler(seen.append)
    try:
        fail.cfg("followups::a", "off")
        fail.cfg("followups::b", "1*return(x)")
        for _ in range(3):
            fail.fail_point("followups::a")
        assert fail.fail_return("followups::b") is not None
        assert fail.fail_return("followups::b") is None
        fail.fail_point("followups::unset")  # not configured: nothing to report
        assert seen == ["followups::a", "followups::b"]
    finally:
        fail.set_reach_handler(None)
        fail.teardown()


def process_run(tmp_path: Path, specs: list[str]) -> dict[str, Any]:
    opts = TestOptions(workload="lin-kv", bin=str(NODE_PATH), node_count=3, time_limit=3.0,
                       rate=20.0, concurrency="2n", seed=1, store=str(tmp_path / "store"),
                       fail=specs, mode="process")
    return run_test(opts).results


def test_process_mode_names_a_point_no_node_reached(tmp_path: Path) -> None:
    r = process_run(tmp_path, ["percolator::prewrite=panic", "n1/raft::before_apply=1*panic",
                               "kvraft::after_apply=off"])
    assert r["fail_points"]["unreached"] == ["percolator::prewrite"], r["fail_points"]
    assert [c["point"] for c in r["fail_points"]["crashes"]] == ["raft::before_apply"]
    [warning] = [w for w in r["warnings"] if w.startswith("fail point")]
    assert warning.startswith("fail point percolator::prewrite was never reached"), warning


def said_runner(said: dict[str, dict[str, set[str]]], points: list[str]) -> Runner:
    """Just what _process_unreached reads: the configuration and the nodes' records."""
    runner = object.__new__(Runner)
    runner.node_ids = ["n0", "n1", "n2"]
    runner._fail_points = [(p, "panic") for p in points]
    runner._fail_said = said
    return runner


def test_a_point_is_unreached_only_where_every_node_it_went_to_reports() -> None:
    both = {"configured": {"x", "y"}}
    said = {"n0": {**both, "reached": {"x"}}, "n1": both, "n2": both}
    # bare x: n0 reached it; n1/y: n1 set it up and never reached it; bare y goes to n0, n2
    assert said_runner(said, ["x", "n1/y", "y"])._process_unreached() == ["n1/y", "y"]
    # n2 wrote no records (a node not on distlab's SDK): a bare point is unknown, not unreached
    said = {"n0": both, "n1": both}
    assert said_runner(said, ["y"])._process_unreached() is None
    assert said_runner(said, ["y", "n0/x"])._process_unreached() == ["n0/x"]
