"""benchmarks/multiraft_campaign.py as a user runs it: a bounded campaign on distlab's own
pieces finds nothing, and the campaign itself (not only region-lab) catches a Raft that
truncates committed entries and the known-bad follower reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def campaign(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "benchmarks/multiraft_campaign.py", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_bounded_campaign_finds_nothing_on_distlabs_pieces() -> None:
    proc = campaign("--seeds", "3")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "linearizable 3/3, safety violations 0, contract violations 0, other failures 0" in proc.stdout
    total = next(ln for ln in proc.stdout.splitlines() if ln.startswith("total:"))
    splits, moves = (int(total.split(f" {w}")[0].split()[-1]) for w in ("splits", "peer moves"))
    assert splits >= 3 and moves >= 10, total  # the faults the campaign promises did happen


def test_campaign_catches_a_raft_that_loses_committed_entries() -> None:
    proc = campaign("--seeds", "1", "--first", "6", "--mutant", "truncate-on-heartbeat")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Raft safety: region 1:" in proc.stdout and "safety violations 1" in proc.stdout


def test_campaign_catches_follower_reads() -> None:
    proc = campaign("--seeds", "2", "--follower-reads")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "not linearizable: cannot linearize: key" in proc.stdout


def test_a_bad_piece_path_is_one_line_and_exit_2() -> None:
    proc = campaign("--seeds", "1", "--raft", "tests/nodes/nothing_here.py:make")
    assert proc.returncode == 2 and proc.stderr.strip() == "error: --raft tests/nodes/nothing_here.py: no such file"
