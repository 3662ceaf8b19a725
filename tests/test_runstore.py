"""The run store's hygiene as a user meets it: `--store-keep N` deletes only old runs
distlab wrote, and `--no-trace` skips messages.jsonl without changing the run."""

from __future__ import annotations

from pathlib import Path

import orjson

from distlab.runstore import prune, run_dirs
from tests.conftest import node_path
from tests.test_cli import distlab, latest, results

ECHO = ["test", "-w", "echo", "--node-count", "1", "--time-limit", "2", "--rate", "20", "-q"]


def test_store_keep_deletes_only_the_oldest_runs_and_nothing_else(tmp_path: Path) -> None:
    notes = tmp_path / "store" / "echo" / "my-notes"  # not a run: no config.json
    notes.mkdir(parents=True)
    for seed in (1, 2, 3):
        assert distlab(*ECHO, "--bin", node_path("echo"), "--seed", str(seed), cwd=tmp_path).returncode == 0
    runs = run_dirs(tmp_path / "store")
    assert len(runs) == 3 and runs[0] == latest(tmp_path)
    proc = distlab(*ECHO, "--bin", node_path("echo"), "--seed", "4", "--store-keep", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "--store-keep 2: deleted 2 older run directories" in proc.stdout
    kept = run_dirs(tmp_path / "store")
    assert kept == [latest(tmp_path), runs[0]]  # the new run and the newest old one
    assert notes.is_dir()


def test_store_keep_rejects_zero(tmp_path: Path) -> None:
    proc = distlab(*ECHO, "--bin", node_path("echo"), "--store-keep", "0", cwd=tmp_path)
    assert proc.returncode == 2 and "--store-keep" in proc.stderr and "Traceback" not in proc.stderr


def test_prune_never_deletes_the_protected_run(tmp_path: Path) -> None:
    for stamp in ("20260101T000000.000", "20260101T000001.000"):
        (tmp_path / "kafka" / stamp).mkdir(parents=True)
        (tmp_path / "kafka" / stamp / "config.json").write_text("{}")
    old = tmp_path / "kafka" / "20260101T000000.000"
    assert prune(tmp_path, 1, protect=old) == []  # the newest is kept by count, the oldest by protect
    assert prune(tmp_path, 1) == [old] and not old.exists()


def test_no_trace_writes_no_messages_and_changes_nothing_else(tmp_path: Path) -> None:
    args = ["test", "-w", "broadcast", "--bin", node_path("broadcast"), "--node-count", "3",
            "--time-limit", "3", "--rate", "20", "--seed", "7", "-q"]
    assert distlab(*args, cwd=tmp_path).returncode == 0
    traced = results(latest(tmp_path))
    proc = distlab(*args, "--no-trace", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = latest(tmp_path)
    assert not (run / "messages.jsonl").exists()
    untraced = results(run)
    assert untraced["net"] == traced["net"] and untraced["valid"] is True
    assert orjson.loads((run / "config.json").read_bytes())["no_trace"] is True
    replay = distlab("replay", str(run), cwd=tmp_path)
    assert replay.returncode == 0 and "replay matches" in replay.stdout, replay.stdout + replay.stderr
