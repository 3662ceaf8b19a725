"""The runner: rate and concurrency, timeouts as info, the final phase, stats."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from distlab.checkers.api import FunctionChecker
from distlab.history import pairs, read_jsonl
from distlab.options import TestOptions
from distlab.report.results import quantiles
from distlab.runner import run_test
from distlab.workloads.base import Op, Workload
from tests.conftest import node_path


class SetWorkload(Workload):
    """A small g-set workload: proves a workload module can use the final phase."""

    name = "test-set"
    read_only = frozenset({"read"})
    final_phase = True

    def __init__(self, params: Any, rng: Any) -> None:
        super().__init__(params, rng)
        self.next_element = 0

    def next_op(self, process: int) -> Op:
        self.next_element += 1
        return Op("add", self.next_element)

    def request(self, op: Op) -> dict[str, Any]:
        if op.f == "read":
            return {"type": "read"}
        return {"type": "add", "element": op.value}

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        return reply["value"] if op.f == "read" else op.value

    def final_ops(self, node_ids: list[str]) -> list[tuple[str, Op]]:
        return [(n, Op("read", None)) for n in node_ids]

    def checker(self) -> FunctionChecker:
        return FunctionChecker(self.check)

    @staticmethod
    def check(history: list[dict[str, Any]]) -> dict[str, Any]:
        added = {done["value"] for inv, done in pairs(history) if inv["f"] == "add" and done and done["type"] == "ok"}
        reads = [done["value"] for inv, done in pairs(history) if inv["f"] == "read" and done and done["type"] == "ok"]
        lost = sorted(added - set.intersection(*(set(r) for r in reads))) if reads else sorted(added)
        return {"valid": bool(reads) and not lost, "final_reads": len(reads), "lost_count": len(lost)}


def run_set(tmp_path: Any, node: str, **kw: Any) -> Any:
    opts = TestOptions(workload="echo", bin=node_path(node), node_count=3, time_limit=10, rate=50,
                       nemesis=["partition"], nemesis_interval=2, seed=3, store=str(tmp_path), **kw)
    return run_test(opts, workload_cls=SetWorkload)


def test_final_phase_heals_waits_and_reads_every_node(tmp_path: Any) -> None:
    result = run_set(tmp_path, "gset")
    assert result.valid is True, result.results
    assert result.results["workload"]["final_reads"] == 3
    history = read_jsonl(result.run_dir / "history.jsonl")
    nemesis = [h for h in history if h["process"] == "nemesis" and h["type"] == "info"]
    assert nemesis[-1]["f"] == "stop-partition"  # healed before the final phase
    reads = [h for h in history if h["f"] == "read" and h["type"] == "invoke"]
    assert reads and all(r["time"] >= nemesis[-1]["time"] + 10 * 10**9 for r in reads)  # after converging


def test_final_phase_catches_a_set_that_never_converges(tmp_path: Any) -> None:
    result = run_set(tmp_path, "gset", bin_args=["--no-gossip"])
    assert result.valid is False
    assert result.results["workload"]["lost_count"] > 0


def test_timeouts_are_info_and_move_the_worker_to_a_new_process(simulate: Any) -> None:
    result = simulate("silent_generate", workload="unique-ids", time_limit=12, rate=10, op_timeout=2.0, concurrency="1")
    stats = result.results["stats"]
    assert stats["ok"] == 0 and stats["info"] == stats["count"] > 0
    history = read_jsonl(result.run_dir / "history.jsonl")
    processes = [h["process"] for h in history if h["type"] == "invoke"]
    assert processes == list(range(len(processes)))  # one worker, a new process after each info
    assert all(done["error"][0] == 0 for _, done in pairs(history) if done)


def test_indefinite_errors_on_read_only_ops_are_fail(simulate: Any) -> None:
    # echo cannot change state, so even an indefinite error (13, crash) is a definite fail
    result = simulate("raises", time_limit=3)
    assert result.results["stats"]["fail"] > 0
    assert result.results["stats"]["info"] == 0


def test_rate_and_concurrency_are_respected(simulate: Any) -> None:
    result = simulate("echo", node_count=2, rate=200, time_limit=10, concurrency="2n")
    count = result.results["stats"]["count"]
    assert 1800 <= count <= 2200
    history = read_jsonl(result.run_dir / "history.jsonl")
    assert {h["process"] for h in history} == {0, 1, 2, 3}


def test_progress_callback_reports_simulated_time(tmp_path: Any) -> None:
    seen: list[tuple[float, float, int]] = []
    opts = TestOptions(workload="echo", bin=node_path("echo"), time_limit=5, seed=1, store=str(tmp_path))
    run_test(opts, progress=lambda now, end, ops: seen.append((now, end, ops)))
    assert [round(now) for now, _, _ in seen] == [1, 2, 3, 4, 5]
    assert seen[-1][2] > 0


def test_stats_network_and_latency_in_results(simulate: Any) -> None:
    result = simulate("gset", workload="echo", node_count=3, time_limit=5, latency=50, seed=2)
    r = result.results
    net = r["net"]
    # 3 nodes gossip to 2 peers every 0.5 s for ~5 s
    assert 50 <= net["server_msgs"] <= 70
    assert net["msgs_per_op"] == round(net["server_msgs"] / r["stats"]["count"], 4)
    assert net["client_msgs"] == 2 * r["stats"]["count"] + 2 * 3  # requests, replies, init handshakes
    assert set(r["latency_ms"]) == {"0.0", "0.5", "0.95", "0.99", "1.0"}
    saved = orjson.loads((result.run_dir / "results.json").read_bytes())
    assert saved["trace_hash"] == r["trace_hash"]


def test_quantiles_in_milliseconds() -> None:
    assert quantiles([0.001 * i for i in range(101)]) == {"0.0": 0.0, "0.5": 50.0, "0.95": 95.0, "0.99": 99.0, "1.0": 100.0}
    assert quantiles([]) == {}


@pytest.mark.parametrize("dist", ["constant", "uniform", "exponential"])
def test_latency_distributions_run(simulate: Any, dist: str) -> None:
    result = simulate("gset", node_count=3, time_limit=3, latency=20, latency_dist=dist)
    assert result.valid is True
