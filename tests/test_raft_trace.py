"""The Raft trace checker (distlab/checkers/raft_trace.py) on hand-written node logs, good
and bad, and `distlab analyze raft` on them; real kvraft runs are checked in
tests/test_kvraft.py and tests/test_kvraft_scenarios.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from distlab.checkers.raft_trace import check_logs, command_id, term_runs


def write_run(root: Path, logs: dict[str, list[tuple[float, str]]], mode: str = "sim") -> Path:
    (root / "node-logs").mkdir(parents=True)
    (root / "config.json").write_bytes(orjson.dumps({"mode": mode}))
    for node, lines in logs.items():
        text = "".join(f"{t:12.6f} {line}\n" for t, line in lines)
        (root / "node-logs" / f"{node}.log").write_text(text)
    return root


def started() -> str:
    return "[distlab] started (incarnation 1)"


def leader(term: int, last: int, runs: list[list[int]]) -> str:
    return "raft " + orjson.dumps({"ev": "leader", "term": term, "last": last, "runs": runs}).decode()


def apply(i: int, t: int, cmd: object) -> str:
    return "raft " + orjson.dumps({"ev": "apply", "i": i, "t": t, "h": command_id(cmd)}).decode()


def restore(i: int, t: int) -> str:
    return "raft " + orjson.dumps({"ev": "restore", "i": i, "t": t}).decode()


def good_logs() -> dict[str, list[tuple[float, str]]]:
    return {
        "n0": [(0, started()), (0.5, leader(1, 1, [[0, 0], [1, 1]])), (0.6, apply(1, 1, None)),
               (0.7, apply(2, 1, "a")), (3.0, "[distlab] crashed (4 durable keys kept)"),
               (4.0, started()), (4.1, restore(2, 1)), (4.5, apply(3, 2, "b"))],
        "n1": [(0, started()), (0.6, apply(1, 1, None)), (0.7, apply(2, 1, "a")),
               (3.5, leader(2, 3, [[0, 0], [1, 1], [3, 2]])), (3.6, apply(3, 2, "b"))],
        "n2": [(0, started()), (0.6, apply(1, 1, None)), (3.7, apply(2, 1, "a")),
               (3.8, apply(3, 2, "b"))],
    }


def test_term_runs() -> None:
    assert term_runs(0, 0, [1, 1, 2, 2, 2, 5]) == [[0, 0], [1, 1], [3, 2], [6, 5]]
    assert term_runs(10, 3, [3, 4]) == [[10, 3], [12, 4]]
    assert term_runs(0, 0, []) == [[0, 0]]


def test_a_safe_run(tmp_path: Path) -> None:
    report = check_logs(write_run(tmp_path, good_logs()))
    assert report.violations == []
    assert (report.nodes, report.leaders, report.applied, report.restores) == (3, 2, 9, 1)


@pytest.mark.parametrize("change,finding", [
    # two leaders in term 2
    (lambda L: L["n2"].append((5.0, leader(2, 3, [[0, 0], [1, 1], [3, 2]]))),
     "election safety: n1 and n2 both led term 2"),
    # n2 applies a different command at index 3
    (lambda L: L["n2"].__setitem__(3, (3.8, apply(3, 2, "c"))), "state machine safety: n2 applied"),
    # n2 skips index 2
    (lambda L: L["n2"].pop(2), "n2 applied entry 3 after 1"),
    # n2 applies index 1 twice
    (lambda L: L["n2"].insert(2, (0.65, apply(1, 1, None))), "n2 applied entry 1 after 1"),
    # after a restart n0 applies without restoring its snapshot first
    (lambda L: L["n0"].pop(6), "n0 applied entry 3 first after a start"),
    # the new leader's log has term 1 only up to index 1: entry 2 (committed at 0.7) is missing
    (lambda L: L["n1"].__setitem__(3, (3.5, leader(2, 2, [[0, 0], [1, 1], [2, 2]]))),
     "leader completeness: n1, leader of term 2"),
    # ... or its log is too short
    (lambda L: L["n1"].__setitem__(3, (3.5, leader(2, 1, [[0, 0], [1, 1]]))),
     "has term None at index 2"),
    # a restored snapshot that ends in the wrong term
    (lambda L: L["n0"].__setitem__(6, (4.1, restore(2, 7))), "restored a snapshot ending at 2 of term 7"),
    (lambda L: L["n2"].append((9.0, "raft {not json")), "n2.log:5: malformed raft trace line"),
    # n2 leads term 3 with a log that matches n1's at index 3 (term 2) but not at index 2
    (lambda L: L["n2"].append((5.0, leader(3, 4, [[0, 0], [1, 1], [2, 2], [4, 3]]))),
     "log matching: the logs of n1 (leader of term 2) and n2 (leader of term 3) agree at "
     "index 3 but differ at index 2"),
])
def test_violations_are_found(tmp_path: Path, change: object, finding: str) -> None:
    logs = good_logs()
    change(logs)  # type: ignore[operator]
    report = check_logs(write_run(tmp_path, logs))
    assert any(finding in v for v in report.violations), report.violations


def test_logs_that_diverge_after_a_common_prefix_match(tmp_path: Path) -> None:
    """Different terms after the last common index are fine (an uncommitted tail)."""
    logs = good_logs()
    logs["n2"].append((5.0, leader(3, 4, [[0, 0], [1, 1], [3, 3]])))  # n1 had term 2 at 3
    report = check_logs(write_run(tmp_path, logs))
    assert [v for v in report.violations if "log matching" in v] == []


def test_completeness_counts_only_entries_applied_before_the_election(tmp_path: Path) -> None:
    logs = good_logs()
    logs["n2"][2] = (3.5, apply(2, 1, "a"))  # same instant as n1's election: not "before"
    logs["n0"] = logs["n0"][:3]
    logs["n1"] = [(0, started()), (3.5, leader(2, 1, [[0, 0], [1, 1]]))]
    logs["n2"] = logs["n2"][:3]
    report = check_logs(write_run(tmp_path, logs))
    assert report.violations == [], report.violations


def test_a_stale_candidate_may_win_an_older_term(tmp_path: Path) -> None:
    """n2 wins term 2 late (its vote replies were delayed) after term 3's leader committed
    entry 3: Raft only promises entries committed in earlier terms to a leader."""
    logs = good_logs()
    logs["n1"][3] = (3.5, leader(3, 3, [[0, 0], [1, 1], [3, 3]]))
    logs["n1"][4] = (3.6, apply(3, 3, "b"))
    logs["n0"][7] = (4.5, apply(3, 3, "b"))
    logs["n2"] = [(0, started()), (0.6, apply(1, 1, None)), (3.7, apply(2, 1, "a")),
                  (3.8, apply(3, 3, "b")), (5.0, leader(2, 2, [[0, 0], [1, 1]]))]
    report = check_logs(write_run(tmp_path / "ok", logs))
    assert report.violations == [], report.violations
    # ... but it must still hold entry 2, committed (at 0.7) while term 1 was the newest
    logs["n2"][4] = (5.0, leader(2, 1, [[0, 0], [1, 1]]))
    report = check_logs(write_run(tmp_path / "bad", logs))
    assert any("n2, leader of term 2 at 5.000000, has term None at index 2" in v
               for v in report.violations), report.violations


def test_process_runs_skip_completeness(tmp_path: Path) -> None:
    logs = good_logs()
    logs["n1"][3] = (3.5, leader(2, 1, [[0, 0], [1, 1]]))
    assert not check_logs(write_run(tmp_path / "a", logs)).ok
    assert check_logs(write_run(tmp_path / "b", logs), ordered=False).ok


def analyze_raft(*dirs: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "distlab", "analyze", "raft", *map(str, dirs)],
                          capture_output=True, text=True, timeout=120)


def test_analyze_raft(tmp_path: Path) -> None:
    good = write_run(tmp_path / "good", good_logs())
    bad_logs = good_logs()
    bad_logs["n2"].append((5.0, leader(2, 3, [[0, 0], [1, 1], [3, 2]])))
    bad = write_run(tmp_path / "bad", bad_logs)
    empty = write_run(tmp_path / "empty", {"n0": [(0, started())]})
    proc = analyze_raft(good)
    assert proc.returncode == 0 and "safe" in proc.stdout and "2 elections, 9 entries" in proc.stdout
    proc = analyze_raft(good, bad)
    assert proc.returncode == 1 and "UNSAFE" in proc.stdout and "both led term 2" in proc.stdout
    proc = analyze_raft(empty)
    assert proc.returncode == 2 and "no raft trace lines" in proc.stderr
    proc = analyze_raft(tmp_path)
    assert proc.returncode == 2 and "not a run directory" in proc.stderr
    process_run = write_run(tmp_path / "proc", good_logs(), mode="process")
    proc = analyze_raft(process_run)
    assert proc.returncode == 0 and "leader completeness not checked" in proc.stdout


def test_unstamped_lines_of_real_processes(tmp_path: Path) -> None:
    """A real process's stderr lines carry no stamp: they keep their order within the file."""
    root = tmp_path / "run"
    (root / "node-logs").mkdir(parents=True)
    (root / "node-logs" / "n0.log").write_text(
        f"    0.006853 [distlab] started pid 1 (incarnation 1)\n{leader(1, 1, [[0, 0], [1, 1]])}\n"
        f"{apply(1, 1, None)}\n{apply(2, 1, 'a')}\n"
        f"    2.000000 [distlab] started pid 2 (incarnation 2)\n{apply(1, 1, None)}\n{apply(3, 1, 'b')}\n")
    report = check_logs(root, ordered=False)
    assert (report.leaders, report.applied) == (1, 4)
    assert report.violations == ["n0 applied entry 3 after 1 at 2.000000 (out of order, twice, or with a gap)"]


def test_a_run_whose_nodes_trace_two_leaders_is_invalid(simulate: Any) -> None:
    result = simulate("raft_claims_leader", workload="echo", node_count=3, time_limit=2.0)
    assert result.results["workload"]["valid"] is True  # echo itself is fine
    raft = result.results["raft_safety"]
    assert raft["valid"] is False and "election safety" in raft["violations"][0]
    assert result.valid is False


def test_runs_without_raft_lines_carry_no_raft_verdict(simulate: Any) -> None:
    result = simulate("echo", node_count=1, time_limit=1.0)
    assert "raft_safety" not in result.results and result.valid is True
