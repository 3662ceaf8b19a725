"""Session state (the duplicate table) across snapshots and shard moves: the lab scenarios
that must catch a node losing it, and must pass distlab's own nodes.

kv-lab's 3b_snapshot_unreliable_lagging (and 3b_snapshot_recover_resend, the same resends
after every node restarted from its stored snapshot) is scripted (6.824's tester, not a random run): a
node is cut off while the others apply writes and compact their logs; three clerks' writes
are applied, read and overwritten there with their replies "lost"; healed, the node catches
up by InstallSnapshot, then the others hear only it, so it alone can lead; the clerks
resend their writes with the same msg_id to it. A node whose snapshot lacks the duplicate
table applies them again (the old value comes back); one whose snapshot shares the live
table skips commands after the snapshot (acknowledged writes go missing). Every random 3B
scenario passed both before this one existed.

shard-lab's 4b_snapshot_resend and 4b_migration_resend do the same with 6.824's shardkv
clerk (client, seq): writes applied, read and overwritten with their replies lost, then
the group restarted from its snapshots, or the shards moved to another group, then the
writes resent. A server whose snapshot drops the shards' session tables, or that moves a
shard without its table, applies them again (the random 4B scenarios catch the second
on most seeds, the first on 2 of 56 scenario-seeds).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from distlab.systems.kvraft import NODE_PATH
from distlab.systems.kvraft.lab import SCENARIOS, SCRIPTED, Lab, nemesis_events
from distlab.systems.shardkv.lab import NODE_PATH as SHARD_NODE
from distlab.systems.shardkv.lab import Lab as ShardLab
from distlab.tracks.catalogue import load
from distlab.tracks.grading import grade, target_for

LAGGING = "3b_snapshot_unreliable_lagging"
RESTART = "3b_snapshot_recover_resend"
MUTANTS = Path(__file__).parents[1] / "distlab" / "tracks" / "kvraft" / "05-3b" / "mutants"
NO_SESSIONS = str(MUTANTS / "sessions_not_in_snapshot.py")  # snapshot: data only
SHARED_SESSIONS = str(MUTANTS / "snapshot_shares_sessions.py")  # snapshot: the live table
LOST_ON_RESTART = str(MUTANTS / "sessions_lost_on_restart.py")  # stored snapshot: data only


def lab(tmp_path: Path, node: str = NODE_PATH, args: list[str] | None = None, offset: int = 0) -> Lab:
    return Lab(node, args or [], store=str(tmp_path / "store"), seed_offset=offset)


# ----- distlab's kvraft passes ------------------------------------------------------------
@pytest.mark.parametrize("args", [[], ["--snapshot-every=20"]])
@pytest.mark.parametrize("offset", [0, 7])
def test_kvraft_answers_resent_writes_once_after_installing_a_snapshot(
        tmp_path: Path, args: list[str], offset: int) -> None:
    lb = lab(tmp_path, args=args, offset=offset)
    detail = SCENARIOS[LAGGING](lb)
    assert "3 resent writes answered once" in detail and "installed a snapshot at index" in detail
    result = lb.runs[-1]
    r = result.results
    assert r["workload"]["valid"] is True and r["raft_safety"]["valid"] is True
    assert r["stats"]["ok"] > 300  # the filler writes that make the others compact
    shapes = [e["value"]["shape"] for e in nemesis_events(result, "start-partition")]
    assert shapes == ["isolate-one", "star"]
    # the same msg_id went out more than once for a write: the resends this is about
    sent = [orjson.loads(line) for line in (result.run_dir / "messages.jsonl").open("rb")]
    writes = [(m["src"], m["body"]["msg_id"]) for m in sent if m.get("ev") == "send"
              and m.get("body", {}).get("type") == "write" and m["src"].startswith("c")]
    assert len(writes) - len(set(writes)) >= 3


# ----- the known-bad nodes are caught, with a sentence a learner can act on -------------------
def test_a_snapshot_without_the_duplicate_table_applies_a_resend_again(tmp_path: Path) -> None:
    lb = lab(tmp_path, NO_SESSIONS)
    with pytest.raises(AssertionError) as err:
        SCENARIOS[LAGGING](lb)
    line = str(err.value).splitlines()[0]
    assert line.startswith("a write was applied a second time: ")
    assert "same msg_id" in line and "does the snapshot carry it" in line
    assert "{" not in line
    # the linearizability checker agrees: the history alone shows it
    assert lb.runs[-1].results["workload"]["valid"] is False


def test_a_snapshot_sharing_the_live_session_table_skips_commands(tmp_path: Path) -> None:
    lb = lab(tmp_path, SHARED_SESSIONS)
    with pytest.raises(AssertionError, match="a write was skipped: key \\d+ read \\d+ at n\\d"):
        SCENARIOS[LAGGING](lb)
    assert lb.runs[-1].results["workload"]["valid"] is False


@pytest.mark.parametrize("offset", [1, 4, 12])
def test_both_known_bad_nodes_fail_on_other_seeds(tmp_path: Path, offset: int) -> None:
    for node, phrase in ((NO_SESSIONS, "applied a second time"), (SHARED_SESSIONS, "was skipped")):
        with pytest.raises(AssertionError, match=phrase):
            SCENARIOS[LAGGING](lab(tmp_path / Path(node).stem, node, offset=offset))


def test_a_node_without_snapshots_is_told_the_scenario_tested_nothing(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="caught up without installing a snapshot"):
        SCENARIOS[LAGGING](lab(tmp_path, args=["--snapshot-every=100000"]))


def test_a_lagging_node_that_cannot_be_elected_fails_rather_than_passing(tmp_path: Path) -> None:
    """Pre-vote without check-quorum: the old leader, cut off from all but the lagging node,
    keeps its heartbeats coming, so the lagging node never stands. Nothing was resent to a
    leader, so the scenario must not pass."""
    node = tmp_path / "no_check_quorum.py"
    node.write_text(
        "import functools\nfrom pathlib import Path\nimport distlab.systems.kvraft\n"
        "NODE = Path(distlab.systems.kvraft.__file__).with_name('node.py')\n"
        "__name__ = 'kvraft_node'\nexec(compile(NODE.read_text(), str(NODE), 'exec'))\n"
        "Config = functools.partial(Config, check_quorum=False)\n"
        "__name__ = '__main__'\nnode.run()\n")
    with pytest.raises(AssertionError, match="answered nothing in 20 s while it was the only node"):
        SCENARIOS[LAGGING](lab(tmp_path, str(node)))


# ----- the same resends after every node restarted from its stored snapshot ------------------------
@pytest.mark.parametrize("args", [[], ["--snapshot-every=20"]])
def test_kvraft_answers_resent_writes_once_after_a_restart(tmp_path: Path, args: list[str]) -> None:
    lb = lab(tmp_path, args=args)
    detail = SCENARIOS[RESTART](lb)
    assert detail == "3 resent writes answered once after every node restarted, 5 of them from a snapshot"
    result = lb.runs[-1]
    assert [e["value"] for e in nemesis_events(result, "start-kill")] == [["n0", "n1", "n2", "n3", "n4"]]
    assert result.results["workload"]["valid"] is True


@pytest.mark.parametrize("node", [NO_SESSIONS, LOST_ON_RESTART])
@pytest.mark.parametrize("offset", [0, 5])
def test_a_restart_that_forgets_the_duplicate_table_applies_a_resend_again(
        tmp_path: Path, node: str, offset: int) -> None:
    with pytest.raises(AssertionError, match="a write was applied a second time: .* every node was "
                                             "killed and restarted from its stored snapshot"):
        SCENARIOS[RESTART](lab(tmp_path, node, offset=offset))


def test_the_install_scenario_alone_misses_a_node_that_forgets_only_on_restart(tmp_path: Path) -> None:
    """Why both scenarios: a node that restores the table from a sent snapshot but not from
    its own stored one passes the lagging-node scenario (nothing restarts there)."""
    assert "answered once" in SCENARIOS[LAGGING](lab(tmp_path, LOST_ON_RESTART))


def test_a_node_that_never_snapshots_is_told_so_after_the_restart(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="restarted without a snapshot"):
        SCENARIOS[RESTART](lab(tmp_path, args=["--snapshot-every=100000"]))


# ----- how a scripted failure is re-run ----------------------------------------------------------
def test_kv_lab_says_to_rerun_a_scripted_failure_not_to_replay_it(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "distlab", "kv-lab", "--bin", NO_SESSIONS,
                           "-s", LAGGING], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith(f"FAIL {LAGGING}"))
    assert "applied a second time" in line and "(seed 1;" in line
    assert f"re-run: distlab kv-lab -s {LAGGING}" in line and "distlab replay" not in line
    run_dir = line.split("; run ")[1].split(";")[0]
    config = orjson.loads((tmp_path / run_dir / "config.json").read_bytes())
    assert config["scenario"] == LAGGING and config["seed"] == 1
    assert (tmp_path / run_dir / "history.jsonl").stat().st_size > 0


def test_the_3b_task_grades_the_scenario_and_catches_both_mutants(tmp_path: Path) -> None:
    task = load().task("kvraft/3b")
    assert task is not None and {LAGGING, RESTART} <= SCRIPTED
    by_file = {m.file.name: m for m in task.mutants}
    for name, phrase in (("sessions_not_in_snapshot.py", "applied a second time"),
                         ("snapshot_shares_sessions.py", "was skipped"),
                         ("sessions_lost_on_restart.py", "applied a second time")):
        assert by_file[name].fails == phrase
    target = target_for(task, Path(NO_SESSIONS))
    results = {r.name: r for r in grade(task, target, store=tmp_path / "store")}
    for name in (LAGGING, RESTART):
        bad = results[name]
        assert not bad.passed and "applied a second time" in bad.reason
        assert bad.replay == f"distlab kv-lab --bin {target} -s {name}"  # no `distlab replay`
    assert results["3b_snapshot_rpc"].replay.startswith("distlab replay ")


# ----- shard-lab: sessions across a group's snapshots and across shard moves ---------------------
SHARD_SNAPSHOT_MUTANT = str(Path(__file__).parents[1] / "distlab" / "tracks" / "sharder" / "10-migration"
                            / "mutants" / "snapshot_without_sessions.py")


def shard_lab(tmp_path: Path, node: str = SHARD_NODE, args: list[str] | None = None, seed: int = 1) -> ShardLab:
    return ShardLab(node, args or [], store=str(tmp_path / "store"), seed=seed)


@pytest.mark.parametrize("seed", [1, 2, 9])
@pytest.mark.parametrize("name", ["4b_snapshot_resend", "4b_migration_resend"])
def test_shardkv_answers_resends_once(tmp_path: Path, name: str, seed: int) -> None:
    lb = shard_lab(tmp_path, seed=seed)
    detail = lb.run(name)
    assert "3 resent writes answered once" in detail
    r = lb.runs[-1].results
    assert r["workload"]["valid"] is True and r["raft_safety"]["valid"] is True
    if name == "4b_snapshot_resend":
        assert "restarts from a snapshot" in detail


@pytest.mark.parametrize("seed", [1, 2, 9])
def test_a_shard_snapshot_without_sessions_applies_a_resend_again(tmp_path: Path, seed: int) -> None:
    lb = shard_lab(tmp_path, SHARD_SNAPSHOT_MUTANT, seed=seed)
    with pytest.raises(AssertionError) as err:
        lb.run("4b_snapshot_resend")
    line = str(err.value).splitlines()[0]
    assert line.startswith("a write was applied a second time: ") and "restarted from its snapshots" in line
    assert "does the snapshot carry it" in line and "{" not in line
    # moving shards takes the live tables, so the move scenario passes this server
    shard_lab(tmp_path, SHARD_SNAPSHOT_MUTANT, seed=seed).run("4b_migration_resend")


@pytest.mark.parametrize("seed", [1, 2, 9])
def test_a_shard_moved_without_sessions_applies_a_resend_again(tmp_path: Path, seed: int) -> None:
    lb = shard_lab(tmp_path, args=["--mutant=no-sessions"], seed=seed)
    with pytest.raises(AssertionError, match="a write was applied a second time: .* moved to group 101.*"
                                             "does it move with the shard\\?"):
        lb.run("4b_migration_resend")
