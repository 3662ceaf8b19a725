"""The terminal summary keeps what carries information and cuts nothing that decides a verdict."""

from __future__ import annotations

import os
from pathlib import Path

from distlab.report.summary import closing_line, workload_rows
from tests.conftest import node_path
from tests.test_cli import distlab

KAFKA_GOOD = {
    "valid": True, "send_count": 108, "duplicate_count": 0, "duplicate": [], "lost_write_count": 0,
    "lost_write": [], "unseen_by_key": {}, "error_types": [],
}


def test_zero_counts_and_empty_cases_are_left_out() -> None:
    assert workload_rows(KAFKA_GOOD) == [("send_count", "108")]


def test_a_count_and_its_cases_are_one_row_with_the_rest_counted() -> None:
    rows = dict(workload_rows({"valid": False, "lost_count": 8, "lost": [2, 3, 6, 7, 9, 11, 12, 13]}))
    assert rows == {"lost": "8: 2, 3, 6, ... 5 more in results.json"}


def test_quantiles_read_as_figures_and_nested_verdicts_are_indented() -> None:
    rows = workload_rows({"valid": False, "stable_latencies": {"0": 0.0, "0.5": 205.4, "1": 14880.2},
                          "part": {"valid": False, "lost_count": 1, "lost": [5]}})
    assert rows == [("stable_latencies", "min 0  p50 205  max 14880"), ("part", "INVALID"), ("  lost", "1: 5")]


def test_the_closing_line_names_the_bad_seeds() -> None:
    assert closing_line([(3, True)]) is None
    assert closing_line([(3, True), (4, True)]) == "2/2 valid: seeds 3 to 4"
    assert closing_line([(3, True), (4, False), (5, "unknown"), (6, False)]) == (
        "2/4 invalid: seeds 4, 6; 1/4 unknown: seeds 5")


def test_an_invalid_run_says_why_in_full_within_80_columns(tmp_path: Path) -> None:
    proc = distlab("test", "-w", "broadcast", "--bin", node_path("broadcast_once"), "--node-count", "5",
                   "--time-limit", "5", "--rate", "50", "--nemesis", "partition", "-q", "--seed", "1",
                   "--test-count", "2", cwd=tmp_path, env={**os.environ, "COLUMNS": "80"})
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert all(len(line.rstrip()) <= 80 for line in lines), max(lines, key=len)
    text = " ".join(" ".join(line.split()) for line in lines)
    assert "why message 2 was acknowledged but missing from n0's final read" in text
    assert "duplicated" not in text and "lost_count" not in text  # zero counts; a count beside its cases
    assert lines[-1] == "2/2 invalid: seeds 1, 2"


def test_a_run_writes_its_report_and_names_it_last_unless_told_not_to(tmp_path: Path) -> None:
    args = ["test", "-w", "lin-kv", "--bin", node_path("lin-kv-proxy"), "--node-count", "3",
            "--time-limit", "5", "--rate", "50", "-q", "--seed", "1"]
    proc = distlab(*args, "--", "lww-kv", cwd=tmp_path)
    assert proc.returncode == 1
    run = (tmp_path / "store" / "latest").resolve()
    assert proc.stdout.splitlines()[-1].split() == ["report", str((run / "report.html").relative_to(tmp_path))]
    for name in ("report.html", "messages.html", "timeline.html", "linearizability.html", "latency-raw.png",
                 "latency-quantiles.png", "rate.png"):
        assert (run / name).is_file(), name
    page = (run / "report.html").read_text()
    assert 'src="linearizability.html"' in page and 'href="timeline.html"' in page
    proc = distlab(*args, "--no-report", "--", "lww-kv", cwd=tmp_path)
    run = (tmp_path / "store" / "latest").resolve()
    assert not (run / "report.html").exists() and "report" not in proc.stdout.splitlines()[-1]
