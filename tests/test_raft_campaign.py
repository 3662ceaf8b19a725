"""benchmarks/raft_campaign.py as a user runs it: a bounded campaign in CI (the 1000-seed
one is `-m slow`), and proof that the campaign itself, not only the tester, catches a
mutant, from the nodes' Raft trace."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def campaign(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "benchmarks/raft_campaign.py", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_bounded_campaign_finds_nothing_in_the_correct_node() -> None:
    proc = campaign("--seeds", "6", "--time-limit", "15")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "violations: 0" in proc.stdout
    assert "raft safety violations in the node logs: 0" in proc.stdout
    assert "elections: " in proc.stdout and "seeds/s" in proc.stdout


def test_campaign_catches_log_truncation_from_the_trace() -> None:
    proc = campaign("--seeds", "1", "--first", "1", "--mutants", "truncate-on-heartbeat")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "RAFT SAFETY seed 1: leader completeness" in proc.stdout
    assert "raft safety violations in the node logs: 1 (seeds [1])" in proc.stdout


@pytest.mark.slow
def test_thousand_seed_campaign() -> None:
    proc = campaign("--seeds", "1000", timeout=3600)
    assert proc.returncode == 0, proc.stdout[-2000:]
