"""Follow-ups to a review, each pinned.

* kv-lab on a node that writes no `raft {...}` trace lines says so on each PASS line
  ("Raft safety not checked: ..."), in shard-lab's words (one shared helper).
* region-lab's shape checks of the learner's --split and --pd pieces are bounded by
  --timeout, as the --raft factory's is: a call that never returns ends the command with
  one `error:` line naming it, exit 2.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from distlab.checkers.raft_trace import Tracer
from distlab.systems.kvraft import NODE_PATH
from distlab.systems.kvraft.lab import NO_RAFT_TRACE, Lab, raft_note, run_scenario

ROOT = Path(__file__).resolve().parents[1]

# distlab's kvraft writing no trace lines, as a learner's node on its own Raft may. Loading
# it silences Tracer in the whole process: in-process tests put it back (monkeypatch).
TRACELESS_KVRAFT = '''
from pathlib import Path
import distlab.systems.kvraft
from distlab.checkers.raft_trace import Tracer

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
