"""`distlab kv-lab`: the KV-lab scenarios on any lin-kv node, as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from distlab.systems.kvraft import NODE_PATH
from tests.conftest import node_path


def kv_lab(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "distlab", "kv-lab", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_kvraft_passes_and_args_reach_the_node(tmp_path: Path) -> None:
    proc = kv_lab("--bin", NODE_PATH, "-s", "3a_basic", "-s", "3b_snapshot_rpc",
                  "--", "--snapshot-every=10", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS 3a_basic" in proc.stdout
    assert "PASS 3b_snapshot_rpc" in proc.stdout and "installed from the network" in proc.stdout
    assert "2 scenarios: 2 pass" in proc.stdout


def test_a_node_that_never_snapshots_fails_the_size_check(tmp_path: Path) -> None:
    proc = kv_lab("--bin", NODE_PATH, "-s", "3b_snapshot_size", "--", "--snapshot-every=100000",
                  cwd=tmp_path)
    assert proc.returncode == 1
    assert "FAIL 3b_snapshot_size" in proc.stdout and "stored state reached" in proc.stdout
    run_dir = proc.stdout.split("its last run is ")[1].split(";")[0]
    assert (tmp_path / run_dir / "results.json").exists()


def test_checks_that_need_a_raft_trace_are_skipped_without_one(tmp_path: Path) -> None:
    proc = kv_lab("--bin", node_path("lin_kv_proxy"), "-s", "3b_snapshot_rpc", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SKIP 3b_snapshot_rpc" in proc.stdout and "raft trace lines" in proc.stdout


def test_bad_arguments_are_one_line_errors(tmp_path: Path) -> None:
    proc = kv_lab("--bin", NODE_PATH, "-s", "9z_*", cwd=tmp_path)
    assert proc.returncode == 2 and "no scenario matches '9z_*'" in proc.stderr
    proc = kv_lab("--bin", str(tmp_path / "missing.py"), "-s", "3a_basic", cwd=tmp_path)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "missing.py" in proc.stderr
    proc = kv_lab("--bin", NODE_PATH, "--list", cwd=tmp_path)
    assert proc.returncode == 0 and len(proc.stdout.split()) == 28


def test_the_whole_lab_passes_on_kvraft_as_shipped(tmp_path: Path) -> None:
    proc = kv_lab("--bin", NODE_PATH, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "28 scenarios: 28 pass" in proc.stdout


def test_seed_offset_changes_the_schedule(tmp_path: Path) -> None:
    seeds = []
    for offset in ("0", "7"):
        proc = kv_lab("--bin", NODE_PATH, "-s", "3a_basic", "--seed-offset", offset,
                      "--store", str(tmp_path / offset), cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        run = next((tmp_path / offset / "lin-kv").iterdir())
        seeds.append(orjson.loads((run / "config.json").read_bytes())["seed"])
    assert seeds == [1, 8]


def test_list_needs_no_node_and_a_run_without_one_is_a_usage_error(tmp_path: Path) -> None:
    proc = kv_lab("--list", "-s", "3b_*", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[:2] == ["3b_snapshot_rpc", "3b_snapshot_size"]
    proc = kv_lab("-s", "3a_basic", cwd=tmp_path)
    assert proc.returncode == 2 and "Missing option '--bin'" in proc.stderr


def test_a_failure_is_a_sentence_with_seed_run_and_replay(tmp_path: Path) -> None:
    proc = kv_lab("--bin", NODE_PATH, "-s", "3a_basic", "--", "--stale-reads", cwd=tmp_path)
    assert proc.returncode == 1
    line = next(x for x in proc.stdout.splitlines() if x.startswith("FAIL 3a_basic"))
    assert "not linearizable: no order of the operations" in line and "read ->" in line
    assert "{" not in line and '"valid"' not in line  # not the checker's JSON
    run_dir = line.split("; run ")[1].split(";")[0]
    assert "(seed 1;" in line and f"replay: distlab replay {run_dir}" in line
    assert (tmp_path / run_dir / "results.json").exists()


def test_a_node_that_stores_nothing_fails_the_size_check(tmp_path: Path) -> None:
    """lin_kv_proxy keeps nothing on disk: 0 bytes is not a bounded Raft log."""
    proc = kv_lab("--bin", node_path("lin_kv_proxy"), "-s", "3b_snapshot_size", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL 3b_snapshot_size" in proc.stdout and "no node stored anything" in proc.stdout
