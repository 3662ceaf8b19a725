"""The Percolator fault campaign, bounded for CI: a few seeds of every fault find no
snapshot-isolation violation in distlab's node, and find them in a node whose reads
ignore locks (the campaign would be worthless if it could not)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

CAMPAIGN = Path(__file__).resolve().parent.parent / "benchmarks" / "percolator_campaign.py"


def _campaign(tmp_path: Path, *args: str) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, str(CAMPAIGN), "--seeds", "6", "--workers", "2", "--time-limit", "10",
                           *args], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def test_the_bounded_campaign_finds_no_violation(tmp_path: Path) -> None:
    code, out = _campaign(tmp_path)
    assert code == 0, out
    assert "SI violations: 0" in out
    committed = int(re.search(r"committed (\d+)", out).group(1))
    assert committed > 100  # it judged real work, not an idle cluster


def test_the_bounded_campaign_catches_reads_that_ignore_locks(tmp_path: Path) -> None:
    code, out = _campaign(tmp_path, "--node-args=--mutants=ignore-locks")
    assert code == 1, out
    assert int(re.search(r"SI violations: (\d+)", out).group(1)) >= 3
