"""Fail points in Raft, the Raft KV and Percolator, driven by ``distlab test --fail``.

Each test forces one of the races the anchors are about, at a named window, in the
simulator (one process for every node: a point is scoped to a node, a ``panic`` crashes
that node alone and it restarts a second later, probabilities follow the run's seed),
and asserts the verdict. Every protection is also shown to matter: the same fail points
against a known-bad variant make the checker fail. Seeds are fixed; the whole file runs
in well under a minute.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from distlab import fail
from distlab.options import TestOptions
from distlab.runner import FAIL_RESTART_SECONDS, RunResult, run_test
from distlab.systems.kvraft import NODE_PATH as KVRAFT
from tests.test_kvraft_scenarios import assert_raft_safe

ROOT = Path(__file__).resolve().parent.parent
PERCOLATOR = str(ROOT / "distlab/systems/percolator/raft_node.py")

# A kvraft that answers a write as soon as it is in the leader's log in memory, and leaves
# writing it to disk and sending it to the next tick: group commit acknowledging before
# the fsync. It passes every run without crashes; a crash in that window loses a write
# some client was told is done.
ACK_BEFORE_PERSIST = '''
from pathlib import Path
import distlab.systems.kvraft

NODE = Path(distlab.systems.kvraft.__file__).with_name("node.py")
__name__ = "kvraft_node"
exec(compile(NODE.read_text(), str(NODE), "exec"))


class AckBeforePersist(KVRaft):
    async def attempt(self, cmd, timeout):
        if cmd["op"] != "write":
            return await super().attempt(cmd, timeout)
        self.core.propose(cmd)  # no pump: persisted and sent at the next tick
        return {"type": "write_ok"}


KVRaft = AckBeforePersist
__name__ = "__main__"
node.run()
'''


def lin_kv(tmp_path: Path, fail_specs: list[str], seed: int = 1, bin_path: str = str(KVRAFT),
           **kw: Any) -> RunResult:
    opts: dict[str, Any] = {
        "workload": "lin-kv", "bin": bin_path, "node_count": 3, "time_limit": 8.0, "rate": 40.0,
        "concurrency": "2n", "seed": seed, "store": str(tmp_path / "store"), "fail": fail_specs,
    }
    opts.update(kw)
    return run_test(TestOptions(**opts))


def percolator(tmp_path: Path, fail_specs: list[str], seed: int = 1, args: tuple[str, ...] = ()) -> RunResult:
    opts: dict[str, Any] = {
        "workload": "txn-list-append", "bin": PERCOLATOR, "bin_args": list(args), "node_count": 9,
        "time_limit": 10.0, "rate": 50.0, "concurrency": "1n", "latency": 5.0, "key_count": 4,
        "max_writes_per_key": 1000, "seed": seed, "consistency_models": ["snapshot-isolation"],
        "store": str(tmp_path / "store"), "no_trace": True, "fail": fail_specs,
    }
    return run_test(TestOptions(**opts))


def crashes(result: RunResult) -> list[tuple[str, str]]:
    return [(c["node"], c["point"]) for c in result.results["fail_points"]["crashes"]]


def node_log(result: RunResult, node: str) -> str:
    return (result.run_dir / "node-logs" / f"{node}.log").read_text()


def role_at(log: str, t: float) -> str | None:
    """The node's Raft role at time t, from its "now ROLE in term N" lines (a node starts
    as a follower without saying so)."""
    role = "follower"
    for line in log.splitlines():
        m = re.match(r"\s*([0-9.]+) now (\w+) in term", line)
        if m and float(m.group(1)) <= t:
            role = m.group(2)
    return role


# ----- the fail point module: scopes and run specs ----------------------------------------


def test_a_scoped_point_fires_only_in_its_node() -> None:
    running = {"node": "n1"}
    with fail.FailScenario(environ={}):
        fail.set_scope(lambda: running["node"])
        try:
            fail.cfg("n2/raft::before_apply", "panic")
            fail.fail_point("raft::before_apply")  # n1: not configured for it
            running["node"] = "n2"
            with pytest.raises(fail.FailPointPanic):
                fail.fail_point("raft::before_apply")
            fail.cfg("raft::before_apply", "panic")  # every node ...
            fail.cfg("n2/raft::before_apply", "off")  # ... but n2's own entry wins there
            fail.fail_point("raft::before_apply")
            running["node"] = "n0"
            with pytest.raises(fail.FailPointPanic):
                fail.fail_point("raft::before_apply")
        finally:
            fail.set_scope(None)


def test_run_specs_are_checked_against_the_points_and_the_nodes() -> None:
    nodes = ["n0", "n1", "n2"]
    assert fail.parse_run_spec("n2/raft::before_apply=1*panic; raft::after_append=5%print", nodes, True) == [
        ("n2/raft::before_apply", "1*panic"), ("raft::after_append", "5%print")]
    assert fail.parse_run_spec("n1/percolator::prewrite=sleep(50)", nodes, simulator=False) == [
        ("n1/percolator::prewrite", "sleep(50)")]
    bad = {
        "raft::befor_apply=panic": "unknown fail point 'raft::befor_apply'",
        "n9/raft::before_apply=panic": "'n9' is not a node of this run",
        "n1/raft::before_apply=2*pancake": "unknown task 'pancake'",
        "n1/raft::before_apply=sleep(10)": "sleep would stop every node at once",
        "n1/raft::before_apply=return(x)": "has no early return",
        "raft::before_apply": "expected [NODE/]NAME=ACTIONS",
    }
    for spec, why in bad.items():
        with pytest.raises(fail.FailPointError) as exc:
            fail.parse_run_spec(spec, nodes, simulator=True)
        assert why in str(exc.value) and "\n" not in str(exc.value), spec


@pytest.mark.parametrize("spec,named", [
    ("n2/raft::before_aply=1*panic", "raft::before_aply"),
    ("n2/raft::before_apply=1**panic", "1**panic"),
    ("n2/raft::before_apply=pause", "pause would stop every node"),
])
def test_a_bad_fail_option_is_one_line_and_exit_2(tmp_path: Path, spec: str, named: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "distlab", "test", "-w", "lin-kv", "--bin", str(KVRAFT), "--node-count", "3",
         "--time-limit", "1", "--store", str(tmp_path / "store"), "--fail", spec],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and named in lines[0], lines
    assert not (tmp_path / "store").exists()  # refused before any run directory


CALLBACK_NODE = """
import asyncio
from distlab import Node
from distlab.fail import fail_point

node = Node()


@node.on("echo")
def echo(msg):
    asyncio.get_running_loop().call_soon(fail_point, "raft::before_apply")  # outside any task
    return {"type": "echo_ok", "echo": msg.body["echo"]}


node.run()
"""


def test_a_panic_in_a_plain_callback_crashes_the_node_not_the_run(tmp_path: Path) -> None:
    node = tmp_path / "callback_node.py"
    node.write_text(CALLBACK_NODE)
    result = run_test(TestOptions(workload="echo", bin=str(node), node_count=1, time_limit=3.0, rate=10.0,
                                  seed=1, store=str(tmp_path / "store"),
                                  fail=["n0/raft::before_apply=3*off->1*panic"]))
    assert result.results.get("error") is None
    assert crashes(result) == [("n0", "raft::before_apply")]
    assert "started (incarnation 2)" in node_log(result, "n0")


# ----- Raft and the Raft KV -------------------------------------------------------------


def test_a_follower_crashing_after_append_before_its_reply(tmp_path: Path) -> None:
    """n1 writes the leader's entries to disk and dies before acknowledging them; it
    restarts from its disk a second later, catches up, and the KV stays linearizable."""
    result = lin_kv(tmp_path, ["n1/raft::after_append=5*off->1*panic"])
    assert crashes(result) == [("n1", "raft::after_append")]
    t = result.results["fail_points"]["crashes"][0]["t"]
    log = node_log(result, "n1")
    assert role_at(log, t) == "follower"
    assert "started (incarnation 2)" in log  # restarted by the harness
    assert result.valid is True, result.results["workload"]
    assert_raft_safe(result)


def test_a_replica_crashing_between_apply_and_reply(tmp_path: Path) -> None:
    """Whichever node applies the 40th write or cas first dies before answering the
    client (an indefinite result); a crash before applying follows. The restarted nodes
    replay their logs, the sessions keep every command applied once."""
    result = lin_kv(tmp_path, ["kvraft::after_apply=40*off->1*panic", "n2/raft::before_apply=80*off->1*panic"])
    assert sorted(p for _, p in crashes(result)) == ["kvraft::after_apply", "raft::before_apply"]
    assert result.valid is True, result.results["workload"]
    assert_raft_safe(result)


KILLER = ["raft::before_persist=5%panic"]
"""Any node, at any write to its disk, one time in twenty: leaders and followers die with
their last batch unsynced, again and again (the draws follow the run's seed)."""


def test_crashes_before_persist_lose_nothing_acknowledged(tmp_path: Path) -> None:
    result = lin_kv(tmp_path, KILLER)
    assert len(crashes(result)) >= 5
    assert {node for node, _ in crashes(result)} == {"n0", "n1", "n2"}
    assert result.valid is True, result.results["workload"]
    assert_raft_safe(result)


def test_an_ack_before_persist_is_caught_by_the_same_fail_point(tmp_path: Path) -> None:
    """The known-bad kvraft passes without the fail point; with it, a leader dies after
    answering a write it never synced, and a later read shows the write gone."""
    node = tmp_path / "ack_before_persist.py"
    node.write_text(ACK_BEFORE_PERSIST)
    assert lin_kv(tmp_path / "plain", [], bin_path=str(node)).valid is True
    result = lin_kv(tmp_path / "failing", KILLER, bin_path=str(node))
    assert result.results["workload"]["valid"] is False
    assert "NOT linearizable" in result.results["workload"]["explanation"]


def test_the_same_seed_and_fail_points_give_the_same_history(tmp_path: Path) -> None:
    runs = [lin_kv(tmp_path / str(k), KILLER, seed=3) for k in range(2)]
    assert runs[0].results["trace_hash"] == runs[1].results["trace_hash"]
    assert runs[0].results["fail_points"] == runs[1].results["fail_points"]
    histories = [(r.run_dir / "history.jsonl").read_bytes() for r in runs]
    assert histories[0] == histories[1]
    other = lin_kv(tmp_path / "other", KILLER, seed=4)  # another seed draws other crashes
    assert other.results["fail_points"]["crashes"] != runs[0].results["fail_points"]["crashes"]
    config = json.loads((runs[0].run_dir / "config.json").read_text())
    assert config["fail"] == KILLER  # recorded: `distlab replay` injects the same


def test_counts_hold_for_the_whole_run_and_the_node_comes_back(tmp_path: Path) -> None:
    result = lin_kv(tmp_path, ["n0/raft::before_apply=10*off->2*panic"], time_limit=6.0)
    times = [c["t"] for c in result.results["fail_points"]["crashes"]]
    assert len(times) == 2 and times[1] >= times[0] + FAIL_RESTART_SECONDS
    assert "started (incarnation 3)" in node_log(result, "n0")
    assert result.valid is True


def test_print_writes_to_the_node_log_and_the_draws_follow_the_seed(tmp_path: Path) -> None:
    result = lin_kv(tmp_path, ["n2/raft::before_apply=30%print(n2 applies)"], time_limit=3.0)
    printed = [node for node in ("n0", "n1", "n2") if "n2 applies" in node_log(result, node)]
    assert printed == ["n2"]
    count = node_log(result, "n2").count("n2 applies")
    applies = node_log(result, "n2").count('raft {"ev":"apply"')
    assert 0.15 * applies < count < 0.45 * applies  # about 30%
    again = lin_kv(tmp_path / "again", ["n2/raft::before_apply=30%print(n2 applies)"], time_limit=3.0)
    assert node_log(again, "n2") == node_log(result, "n2")


def test_real_processes_get_their_own_points_and_restart_after_a_panic(tmp_path: Path) -> None:
    """--mode process: each node process reads FAILPOINTS (its own points and the unscoped
    ones), a panic ends it with status 101, and the harness starts it again, the counts
    carried over (tests/test_failpoints_process.py): n1 panics once, the row names the point."""
    result = lin_kv(tmp_path, ["n1/raft::after_append=5*off->1*panic"], mode="process",
                    time_limit=4.0, rate=20.0)
    assert result.results["mode"] == "process"
    assert crashes(result) == [("n1", "raft::after_append")]
    log = node_log(result, "n1")
    assert "fail point raft::after_append" in log and "(incarnation 2)" in log
    assert "fail point" not in node_log(result, "n0") + node_log(result, "n2")
    assert result.valid is True, result.results.get("error")


def test_the_raft_points_reach_every_system_on_the_shared_host(tmp_path: Path) -> None:
    """shardkv's controller and replica groups run on the same RaftHost: crashes before
    persist across the whole sharded cluster, while shards move, and it stays
    linearizable and Raft-safe."""
    from distlab.systems.shardkv import lab

    result = lab.lin_kv(store=str(tmp_path / "store"), seed=2, time_limit=10.0, nemesis=[],
                        fail=["raft::before_persist=1%panic"])
    nodes = {node for node, _ in crashes(result)}
    assert "m0" in nodes and any(n.startswith("g") for n in nodes)  # controller and groups
    assert result.valid is True
    assert result.results["raft_safety"]["valid"] is True


# ----- Percolator -----------------------------------------------------------------------------


def history(result: RunResult) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (result.run_dir / "history.jsonl").read_text().splitlines()]


def crashed_appends(result: RunResult) -> list[tuple[list[tuple[int, int]], set[tuple[int, int]]]]:
    """For each transaction whose client died (an indefinite result): its appends, and
    those of them some committed transaction later read."""
    records = history(result)
    oks = [r for r in records if r["type"] == "ok" and r["f"] == "txn"]
    read = {(k, v) for r in oks for kind, k, vs in r["value"] if kind == "r" and vs for v in vs}
    out = []
    for r in records:
        if r["type"] == "info" and r["f"] == "txn":
            appends = [(k, v) for kind, k, v in r["value"] if kind == "append"]
            out.append((appends, {a for a in appends if a in read}))
    return out


def test_a_client_dying_after_the_primary_commit_is_rolled_forward(tmp_path: Path) -> None:
    """TiKV's classic window: n0's client dies after its primary committed, before the
    secondaries. The transaction is committed; later readers meet the secondaries' locks,
    find the primary committed and roll them forward: every append of it becomes visible,
    and snapshot isolation holds."""
    result = percolator(tmp_path, ["n0/percolator::commit_secondary=3*off->2*panic"])
    assert crashes(result) == [("n0", "percolator::commit_secondary")] * 2
    assert result.valid is True, result.results["workload"].get("anomaly_types")
    died = crashed_appends(result)
    assert len(died) == 2
    assert any(len({k for k, _ in appends}) >= 2 for appends, _ in died)  # a secondary was left
    for appends, seen in died:
        assert seen == set(appends), (appends, seen)


def test_a_client_dying_after_prewrite_has_its_locks_rolled_back(tmp_path: Path) -> None:
    """n0's client dies with every key locked and nothing committed: other clients wait
    out the TTL, roll the locks back, and none of its appends is ever read."""
    result = percolator(tmp_path, ["n0/percolator::prewrite=3*off->2*panic"])
    assert crashes(result) == [("n0", "percolator::prewrite")] * 2
    assert result.valid is True, result.results["workload"].get("anomaly_types")
    died = crashed_appends(result)
    assert len(died) == 2
    for appends, seen in died:
        assert appends and not seen
    logs = "".join(p.read_text() for p in (result.run_dir / "node-logs").glob("*.log"))
    assert "lock rolled back" in logs


def test_secondaries_committed_first_are_caught_by_a_crash_before_the_primary(tmp_path: Path) -> None:
    """The secondaries-first client passes this run without the fail point; dying before
    the primary's commit leaves secondaries committed and a primary that readers roll back:
    half a transaction visible, which the checker reports."""
    args = ("--mutants=secondaries-first",)
    assert percolator(tmp_path / "plain", [], seed=2, args=args).valid is True
    result = percolator(tmp_path / "failing", ["n0/percolator::commit_primary=3*off->2*panic"], seed=2, args=args)
    assert result.results["workload"]["valid"] is False
    assert set(result.results["workload"]["anomaly_types"]) & {"G-single", "G1c", "G0", "G-nonadjacent"}
