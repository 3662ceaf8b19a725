"""`distlab shard-lab` as a learner runs it: distlab's controller passes every scenario, a
controller that moves more shards than needed is named with the scenario, seed and run."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import distlab


def test_distlabs_controller_passes_every_scenario(tmp_path: Path) -> None:
    proc = distlab("shard-lab", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "14 scenarios: 14 pass" in proc.stdout


def test_a_controller_that_moves_too_much_is_caught(tmp_path: Path) -> None:
    proc = distlab("shard-lab", "-s", "4a_minimal_transfers_after_joins", "-s", "4a_move", "--", "--mutant=rebuild",
                   cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    fail = next(line for line in proc.stdout.splitlines() if line.startswith("FAIL"))
    assert "4a_minimal_transfers_after_joins" in fail and "non-minimal transfer" in fail and "seed 1" in fail


def test_list_and_bad_input(tmp_path: Path) -> None:
    proc = distlab("shard-lab", "--list", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.split()[0] == "4a_basic_leave_join"
    proc = distlab("shard-lab", "-s", "nope", cwd=tmp_path)
    assert proc.returncode == 2 and "no scenario matches 'nope'" in proc.stderr and "Traceback" not in proc.stderr
    proc = distlab("shard-lab", "--bin", str(tmp_path / "missing.py"), cwd=tmp_path)
    assert proc.returncode == 2 and "no such file" in proc.stderr and "Traceback" not in proc.stderr


def test_the_sharded_kv_scenarios_run_and_catch_a_store_that_never_deletes(tmp_path: Path) -> None:
    proc = distlab("shard-lab", "--kv", "-s", "4b_static_shards", "-s", "4b_challenge1_delete", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = distlab("shard-lab", "--kv", "-s", "4b_challenge1_delete", "--", "--mutant=no-gc", cwd=tmp_path)
    assert proc.returncode == 1 and "shards handed away were not deleted" in proc.stdout
