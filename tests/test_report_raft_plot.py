"""raft.png: drawn for a run whose nodes write Raft trace lines (kvraft under partitions
and kills), from leader periods checked against the trace itself; no picture otherwise."""

from __future__ import annotations

from pathlib import Path

from distlab.history import read_jsonl
from distlab.report.raft_plot import leader_periods, raft_events, write_raft_plot
from tests.conftest import node_path
from tests.test_cli import distlab, latest

KVRAFT = str(Path(__file__).resolve().parent.parent / "distlab" / "systems" / "kvraft" / "node.py")


def test_kvraft_under_faults_gets_a_raft_picture(tmp_path: Path) -> None:
    proc = distlab("test", "-w", "lin-kv", "--bin", KVRAFT, "--node-count", "5", "--time-limit", "10",
                   "--rate", "20", "--nemesis", "partition,kill", "--nemesis-interval", "2", "-q", "--seed", "3",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = latest(tmp_path)
    events = raft_events(run)
    leaders = [(node, data["term"]) for _, node, kind, data in events if kind == "leader"]
    periods = leader_periods(events, end=events[-1][0])
    assert len(periods) == len(leaders) > 1  # every election of the run is a bar
    assert sorted((n, t) for n, t, _, _ in periods) == sorted(leaders)
    assert all(since <= until for _, _, since, until in periods)
    out = write_raft_plot(run, read_jsonl(run / "history.jsonl"), tmp_path / "raft.png")
    assert out is not None and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_later_term_ends_the_last_one_and_a_restart_ends_its_node() -> None:
    events = [(1.0, "n1", "leader", {"term": 1}), (2.0, "n1", "started", {}),
              (3.0, "n2", "leader", {"term": 2}), (4.0, "n3", "leader", {"term": 3})]
    assert leader_periods(events, end=9.0) == [("n1", 1, 1.0, 2.0), ("n2", 2, 3.0, 4.0), ("n3", 3, 4.0, 9.0)]


def test_no_trace_no_picture(tmp_path: Path) -> None:
    proc = distlab("test", "-w", "echo", "--bin", node_path("echo"), "--node-count", "1", "--time-limit", "1",
                   "-q", cwd=tmp_path)
    assert proc.returncode == 0
    assert write_raft_plot(latest(tmp_path), [], tmp_path / "raft.png") is None
    assert not (tmp_path / "raft.png").exists()
