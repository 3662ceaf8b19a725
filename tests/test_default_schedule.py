"""The simulator's default schedule (no --latency): server messages get a small seeded
jitter, so nodes interleave as processes on one machine do and a node that is only
right when nothing overlaps gets caught; runs that set --latency are exactly what
they were before the jitter existed, and client traffic is never delayed."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from distlab.examples import example_path
from distlab.options import RunError, TestOptions
from distlab.runner import run_test
from distlab.runtime.network import DEFAULT_JITTER_MS, Latency, Network
from tests.conftest import node_path
from tests.test_cli import distlab, latest, results

# Gossip Glomers 6's command line, with a transactional model the node cannot meet.
GG6 = ["test", "-w", "txn-list-append", "--node-count", "2", "--concurrency", "2n", "--time-limit", "20",
       "--rate", "1000", "--consistency-models", "snapshot-isolation"]


def short_txn_run(tmp_path: Path, **kw: Any) -> Any:
    """A few seconds of the unlocked transaction node on two nodes, rate 1000."""
    opts: dict[str, Any] = dict(workload="txn-list-append", bin=node_path("txn_unlocked"), node_count=2,
                                concurrency="2n", time_limit=3, rate=1000,
                                consistency_models=["snapshot-isolation"], seed=1,
                                store=str(tmp_path / "store"))
    opts.update(kw)
    return run_test(TestOptions(**opts))


def trace(run_dir: Path) -> list[dict[str, Any]]:
    with open(run_dir / "messages.jsonl", "rb") as f:
        return [orjson.loads(line) for line in f]


def test_unlocked_transactions_are_caught_at_default_network_options(tmp_path: Path) -> None:
    proc = distlab(*GG6, "--bin", node_path("txn_unlocked"), "--seed", "1", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "INVALID" in proc.stdout
    assert "network delay" in proc.stdout and "exponential" in proc.stdout
    run_dir = latest(tmp_path)
    r = results(run_dir)
    assert {"G0", "G1c", "G-single"} <= set(r["workload"]["anomaly_types"])
    assert r["stats"]["ok"] > 15_000  # the anomalies are not timeouts: the node kept up
    assert r["net"]["delay"] == f"default: exponential, mean {DEFAULT_JITTER_MS:g} ms, in order per link"
    config = orjson.loads((run_dir / "config.json").read_bytes())
    assert config["latency"] is None and config["jitter"] == DEFAULT_JITTER_MS


def test_explicit_zero_latency_is_truly_zero(tmp_path: Path) -> None:
    """--latency 0: every message arrives when sent, so no transaction ever overlaps another."""
    result = short_txn_run(tmp_path, latency=0.0)
    assert result.valid is True
    assert result.results["net"]["delay"] == "none (--latency 0)"
    sent = {}
    for ev in trace(result.run_dir):
        if ev["ev"] == "send":
            sent[ev["id"]] = ev["t"]
        else:
            assert ev["t"] == sent[ev["id"]]
    config = orjson.loads((result.run_dir / "config.json").read_bytes())
    assert config["latency"] == 0.0 and config["jitter"] == 0.0


def test_runs_with_latency_are_unchanged_by_the_jitter(tmp_path: Path) -> None:
    """Gossip Glomers 3d with the reference broadcast node: the README's figures, and the
    very trace recorded before the default jitter was added (at c5640ea). A change that
    legitimately alters this run (the node, the workload, the final phase) re-records
    the hash; a change to the default delay must never need to."""
    result = run_test(TestOptions(workload="broadcast", bin=str(example_path("broadcast")), node_count=25,
                                  time_limit=20, rate=100, latency=100.0, seed=1, store=str(tmp_path)))
    r = result.results
    assert r["trace_hash"] == "21decbccde606b4e979f6a0bfaa59e1ecd789d9f7cd56656e98fcb9dfa70e706"
    assert r["net"]["msgs_per_op"] == 17.5546
    assert round(r["workload"]["stable_latencies"]["0.5"]) == 333
    assert round(r["workload"]["stable_latencies"]["1"]) == 596
    assert r["net"]["delay"] == "constant, mean 100 ms"


def test_default_jitter_delays_only_server_messages_and_keeps_each_link_in_order(tmp_path: Path) -> None:
    result = short_txn_run(tmp_path)
    sent: dict[int, dict[str, Any]] = {}
    delays = []
    order: dict[tuple[str, str], list[int]] = {}
    for ev in trace(result.run_dir):
        if ev["ev"] == "send":
            sent[ev["id"]] = ev
            continue
        assert ev["ev"] == "recv"
        send = sent[ev["id"]]
        if send["src"].startswith("c") or send["dest"].startswith("c"):
            assert ev["t"] == send["t"]  # clients: delivered at once, as the protocol says
        else:
            delays.append(ev["t"] - send["t"])
            order.setdefault((send["src"], send["dest"]), []).append(ev["id"])
    assert len(delays) > 10_000 and min(delays) >= 0
    mean_ms = sum(delays) / len(delays) / 1e6
    assert DEFAULT_JITTER_MS * 0.8 < mean_ms < DEFAULT_JITTER_MS * 1.5  # in-order delivery adds a little
    assert {"lin-kv"} < {end for link in order for end in link}  # node<->service traffic is jittered
    for ids in order.values():
        assert ids == sorted(ids)  # message ids grow with send time: received in send order


def test_default_runs_replay_exactly(tmp_path: Path) -> None:
    first = short_txn_run(tmp_path, time_limit=1)
    config = orjson.loads((first.run_dir / "config.json").read_bytes())
    config.pop("bin_sha256")
    config["store"] = str(tmp_path / "again")
    again = run_test(TestOptions(**config))
    assert again.results["trace_hash"] == first.results["trace_hash"]
    other_seed = short_txn_run(tmp_path, time_limit=1, seed=2)
    assert other_seed.results["trace_hash"] != first.results["trace_hash"]


def test_a_config_from_before_the_jitter_replays_with_zero_delay(tmp_path: Path) -> None:
    """Old config.json files say latency 0.0 and nothing about jitter: that is --latency 0."""
    opts = TestOptions(workload="echo", bin=node_path("echo"), latency=0.0)
    assert opts.resolved_jitter() == 0.0
    net = opts.network(random.Random(1))
    assert not net.fifo and net.latency == Latency(0.0)


def test_real_processes_get_no_added_delay() -> None:
    opts = TestOptions(workload="echo", bin=node_path("echo"), mode="process")
    assert opts.resolved_jitter() == 0.0
    assert opts.delay_text() == "default: none added (real processes)"
    assert TestOptions(workload="echo", bin=node_path("echo")).resolved_jitter() == DEFAULT_JITTER_MS


def test_jitter_and_latency_cannot_both_be_set() -> None:
    opts = TestOptions(workload="echo", bin=node_path("echo"), latency=5.0, jitter=0.5)
    with pytest.raises(RunError, match="one or the other"):
        opts.validate()


def test_fifo_arrivals_never_overtake_on_a_link() -> None:
    net = Network(random.Random(7), latency=Latency(0.001, "exponential"), fifo=True)
    last: dict[tuple[str, str], float] = {}
    now = 0.0
    overtaken = 0
    rng = random.Random(8)
    for _ in range(5000):
        now += rng.expovariate(5000)
        src, dest = rng.choice([("n0", "n1"), ("n1", "n0"), ("n0", "lin-kv")])
        (at,) = net.arrivals(src, dest, now)
        assert at >= now and at >= last.get((src, dest), 0.0)
        overtaken += at == last.get((src, dest))
        last[(src, dest)] = at
    assert overtaken > 100  # the clamp really was needed: independent delays would reorder


def test_arrivals_without_fifo_are_send_time_plus_delay() -> None:
    plain = Network(random.Random(9), latency=Latency(0.01, "uniform"), duplication=0.5)
    same = Network(random.Random(9), latency=Latency(0.01, "uniform"), duplication=0.5)
    for i in range(200):
        assert plain.arrivals("a", "b", i * 0.001) == [i * 0.001 + d for d in same.delays("a", "b")]
