"""Maelstrom command lines whose verdict depends on its option defaults and semantics.

Each test runs a command line as Maelstrom's docs write it through the real CLI.
The facts followed (jepsen-io/maelstrom src/maelstrom/core.clj, Jepsen 0.3.7's
jepsen/cli.clj, generator.clj and nemesis/combined.clj): without --node-count
or --nodes a test has Jepsen's five nodes n1..n5, --node-count N gives
n0..n{N-1} and overrides --nodes, -w defaults to lin-kv, --rate 0 runs no
client operations, and the partition nemesis is a start/stop flip-flop under
gen/stagger (first change at once, then gaps uniform in 0..2 x interval),
which `distlab test` runs (--nemesis-schedule stagger, its default).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from distlab.options import DEFAULT_NODES, RunError, TestOptions, resolve_nodes
from tests.conftest import node_path

DISTLAB = [sys.executable, "-m", "distlab"]


def distlab(*args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DISTLAB, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def runs(cwd: Path, workload: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(config, results) of every run of `workload` under cwd/store, in seed order."""
    out = []
    for run_dir in (cwd / "store" / workload).iterdir():
        config = orjson.loads((run_dir / "config.json").read_bytes())
        out.append((config, orjson.loads((run_dir / "results.json").read_bytes())))
    return sorted(out, key=lambda pair: pair[0]["seed"])


def latest(cwd: Path) -> Path:
    return (cwd / "store" / "latest").resolve()


def results_of(cwd: Path) -> dict[str, Any]:
    return orjson.loads((latest(cwd) / "results.json").read_bytes())


def config_of(cwd: Path) -> dict[str, Any]:
    return orjson.loads((latest(cwd) / "config.json").read_bytes())


# ----- node ids ------------------------------------------------------------------------


def test_resolve_nodes_follows_maelstrom_precedence(tmp_path: Path) -> None:
    assert resolve_nodes() == list(DEFAULT_NODES) == ["n1", "n2", "n3", "n4", "n5"]
    assert resolve_nodes(3) == ["n0", "n1", "n2"]
    assert resolve_nodes(2, "a,b,c") == ["n0", "n1"]  # --node-count overrides --nodes
    assert resolve_nodes(None, "a, b,c") == ["a", "b", "c"]  # Jepsen splits on ",\s*"
    assert resolve_nodes(None, None, ("x", "y")) == ["x", "y"]
    listing = tmp_path / "nodes.txt"
    listing.write_text("f1\n  f2  \n\n")
    assert resolve_nodes(None, "a", ("x",), str(listing)) == ["f1", "f2", "a", "x"]  # file, --nodes, -n
    with pytest.raises(RunError, match="--nodes-file"):
        resolve_nodes(None, None, (), str(tmp_path / "missing.txt"))


@pytest.mark.parametrize(
    ("nodes", "message"),
    [([], "at least one"), (["a", "a"], "appears twice"), (["c3"], "id of a client"),
     (["lin-kv"], "id of a service"), (["../x"], "not a usable node id")],
)
def test_bad_node_ids_are_refused(nodes: list[str], message: str) -> None:
    opts = TestOptions(workload="echo", bin=node_path("echo"), nodes=nodes)
    with pytest.raises(RunError, match=message):
        opts.validate()


def test_default_is_five_nodes_n1_to_n5_and_broadcast_without_retries_fails(tmp_path: Path) -> None:
    """Maelstrom's doc (03-broadcast/02-performance.md) reports this command line INVALID, lost 8."""
    proc = distlab("test", "-w", "broadcast", "--bin", node_path("broadcast_once"), "--time-limit", "20",
                   "--nemesis", "partition", "--seed", "1", "--test-count", "6", "-q", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    done = runs(tmp_path, "broadcast")
    assert [c["seed"] for c, _ in done] == [1, 2, 3, 4, 5, 6]
    for config, results in done:
        assert config["node_count"] == 5 and config["nodes"] == ["n1", "n2", "n3", "n4", "n5"]
        assert config["nemesis_schedule"] == "stagger"
        assert results["nemesis_ops"]["start-partition"] >= 1
        assert results["warnings"] == []
    assert done[0][1]["valid"] is False and done[0][1]["workload"]["lost_count"] > 0
    caught = [c["seed"] for c, r in done if r["valid"] is False and r["workload"]["lost_count"] > 0]
    assert len(caught) >= 4, caught
    run_dir = next((tmp_path / "store" / "broadcast").iterdir())
    assert sorted(p.name for p in (run_dir / "node-logs").iterdir()) == [f"n{i}.log" for i in range(1, 6)]


def test_one_node_cannot_be_partitioned_and_the_summary_says_so(tmp_path: Path) -> None:
    """distlab's old default (one node) made the same command line VALID, silently."""
    proc = distlab("test", "-w", "broadcast", "--bin", node_path("broadcast_once"), "--time-limit", "20",
                   "--nemesis", "partition", "--node-count", "1", "--seed", "1", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = results_of(tmp_path)
    assert results["warnings"] == ["--nemesis partition with a single node: there is no other node to cut it off from"]
    assert "warning" in proc.stdout and "single node" in proc.stdout


def test_explicit_node_ids_are_used_everywhere_and_replay(tmp_path: Path) -> None:
    proc = distlab("test", "-w", "broadcast", "--bin", node_path("broadcast"), "--nodes", "alpha,beta,gamma",
                   "--time-limit", "10", "--rate", "10", "--nemesis", "partition", "--nemesis-interval", "2",
                   "--seed", "7", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run_dir = latest(tmp_path)
    config = config_of(tmp_path)
    assert config["nodes"] == ["alpha", "beta", "gamma"] and config["node_count"] == 3
    assert sorted(p.name for p in (run_dir / "node-logs").iterdir()) == ["alpha.log", "beta.log", "gamma.log"]
    servers = set()
    for line in (run_dir / "messages.jsonl").read_bytes().splitlines():
        event = orjson.loads(line)
        if event["ev"] == "send" and event["body"].get("type") == "init":
            assert event["body"]["node_ids"] == ["alpha", "beta", "gamma"]
        if event["ev"] == "send" and not event["src"].startswith("c"):
            servers.add(event["src"])
    assert servers == {"alpha", "beta", "gamma"}
    replay = distlab("replay", str(run_dir), cwd=tmp_path)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "replay matches" in replay.stdout


def test_node_count_overrides_nodes_and_dash_n_adds_nodes(tmp_path: Path) -> None:
    proc = distlab("test", "-w", "echo", "--bin", node_path("echo"), "--nodes", "x,y,z", "--node-count", "2",
                   "--time-limit", "2", "--seed", "1", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert config_of(tmp_path)["nodes"] == ["n0", "n1"]
    proc = distlab("test", "-w", "echo", "--bin", node_path("echo"), "--nodes", "x", "-n", "y", "--node", "z",
                   "--time-limit", "2", "--seed", "1", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert config_of(tmp_path)["nodes"] == ["x", "y", "z"]


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--nodes", "n1,n1"], "--nodes: 'n1' appears twice"),
     (["--nodes", "n1,c0"], "--nodes: 'c0' is the id of a client"),
     (["--rate", "-1"], "--rate"),
     (["--max-writes-per-key", "0"], "--max-writes-per-key"),
     (["--nemesis-interval", "0"], "--nemesis-interval must be positive")],
)
def test_bad_maelstrom_options_give_one_clear_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    proc = distlab("test", "-w", "echo", "--bin", node_path("echo"), *args, cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


# ----- the nemesis schedule -------------------------------------------------------------


def test_a_run_shorter_than_the_interval_still_gets_faults(tmp_path: Path) -> None:
    """`--time-limit 10 --nemesis partition` (interval 10): Jepsen's stagger partitions at once."""
    proc = distlab("test", "-w", "broadcast", "--bin", node_path("broadcast"), "--time-limit", "10",
                   "--nemesis", "partition", "--seed", "2", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = results_of(tmp_path)
    assert results["nemesis_ops"]["start-partition"] >= 1
    assert results["warnings"] == []
    history = [orjson.loads(line) for line in (latest(tmp_path) / "history.jsonl").read_bytes().splitlines()]
    changes = [h["time"] / 1e9 for h in history if h["process"] == "nemesis" and h["type"] == "info"]
    start = min(h["time"] for h in history if h["process"] != "nemesis") / 1e9
    assert changes[0] == pytest.approx(start, abs=1e-6)


def test_the_fixed_schedule_injects_nothing_in_a_short_run_and_says_so(tmp_path: Path) -> None:
    """distlab's earlier schedule, still there for older runs: the same command line got no fault, silently."""
    proc = distlab("test", "-w", "broadcast", "--bin", node_path("broadcast_once"), "--time-limit", "10",
                   "--nemesis", "partition", "--nemesis-schedule", "fixed", "--seed", "1", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = results_of(tmp_path)
    assert results["nemesis_ops"] == {}
    [warning] = results["warnings"]
    assert warning.startswith("--nemesis partition: no fault was injected")
    assert "no fault was injected" in " ".join(proc.stdout.split())
    assert config_of(tmp_path)["nemesis_schedule"] == "fixed"


def test_a_config_recorded_before_these_options_means_what_it_meant() -> None:
    """config.json of older runs has no nodes, schedule or log keys: they replay as they ran."""
    old = TestOptions(workload="echo", bin="x.py", node_count=3, nemesis=["partition"])
    assert old.node_ids() == ["n0", "n1", "n2"]
    assert old.nemesis_schedule == "fixed" and old.rate == 5.0
    assert not old.log_net_send and not old.log_net_recv


# ----- rate, workload, logging, per-key writes --------------------------------------------


def test_rate_zero_runs_no_client_operations_but_faults_and_final_reads(tmp_path: Path) -> None:
    proc = distlab("test", "-w", "g-counter", "--bin", node_path("g_counter"), "--node-count", "3", "--rate", "0",
                   "--time-limit", "5", "--nemesis", "partition", "--nemesis-interval", "1", "--seed", "3", "-q",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = results_of(tmp_path)
    assert set(results["stats"]["by_f"]) == {"read"}  # the final reads only, one per node
    assert results["stats"]["count"] == 3
    assert results["nemesis_ops"]["start-partition"] >= 1
    assert results["sim_seconds"] >= 5 + 10  # the whole time limit, then 10 s to converge


def test_workload_defaults_to_lin_kv(tmp_path: Path) -> None:
    proc = distlab("test", "--bin", node_path("lin_kv_proxy"), "--time-limit", "5", "--rate", "20", "--seed", "1",
                   "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert config_of(tmp_path)["workload"] == "lin-kv"
    assert latest(tmp_path).parent.name == "lin-kv"
    assert results_of(tmp_path)["stats"]["by_f"].keys() <= {"read", "write", "cas"}


def test_log_net_send_and_recv_copy_messages_to_stderr_without_changing_the_trace(tmp_path: Path) -> None:
    base = ["test", "-w", "echo", "--bin", node_path("echo"), "--node-count", "1", "--time-limit", "2",
            "--rate", "5", "--seed", "4", "-q"]
    plain = distlab(*base, cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    plain_hash = results_of(tmp_path)["trace_hash"]
    send = distlab(*base, "--log-net-send", cwd=tmp_path)
    assert send.returncode == 0, send.stderr
    assert results_of(tmp_path)["trace_hash"] == plain_hash
    sends = [line for line in send.stderr.splitlines() if " net | send " in line]
    assert any('"type":"echo"' in line and '"dest":"n0"' in line for line in sends)
    assert any('"type":"echo_ok"' in line for line in sends)
    assert " net | recv " not in send.stderr
    recv = distlab(*base, "--log-net-recv", cwd=tmp_path)
    assert recv.returncode == 0, recv.stderr
    assert results_of(tmp_path)["trace_hash"] == plain_hash
    recvs = [line for line in recv.stderr.splitlines() if " net | recv " in line]
    assert len(recvs) == len(sends)  # no loss, no duplication: every message sent is received once
    assert " net | send " not in recv.stderr


@pytest.mark.parametrize("workload", ["txn-rw-register", "txn-list-append"])
def test_max_writes_per_key_rotates_keys_as_elle_does(tmp_path: Path, workload: str) -> None:
    node = node_path("txn_rw") if workload == "txn-rw-register" else node_path("txn_unlocked")
    proc = distlab("test", "-w", workload, "--bin", node, "--node-count", "1", "--key-count", "3",
                   "--time-limit", "4", "--rate", "50", "--max-writes-per-key", "4", "--seed", "1", "-q",
                   "--consistency-models", "read-uncommitted", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert config_of(tmp_path)["max_writes_per_key"] == 4
    writes: dict[Any, int] = {}
    for line in (latest(tmp_path) / "history.jsonl").read_bytes().splitlines():
        rec = orjson.loads(line)
        if rec["type"] == "invoke":
            for kind, key, _ in rec["value"]:
                if kind != "r":
                    writes[key] = writes.get(key, 0) + 1
    assert max(writes.values()) == 4  # each key retired after its 4th write ...
    assert len(writes) > 3  # ... and fresh keys took over: more keys than --key-count
