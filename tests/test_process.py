"""Process mode: real node processes, real pipes, real signals — and nothing left behind."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from distlab.history import read_jsonl
from tests.conftest import NODES, node_path

RAW = str(NODES / "raw" / "echo_raw.py")


def processes_mentioning(marker: str, under: Path | None = None) -> list[str]:
    """Command lines of live processes that contain `marker` (zombies excluded); with
    `under`, only those working in that folder (a node's working directory is in its
    run directory, and its children inherit it), so runs elsewhere on the machine,
    such as another checkout's tests, are not mistaken for this run's leftovers."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            cwd = os.readlink(f"/proc/{pid}/cwd") if under is not None else ""
        except OSError:
            continue
        if under is not None and not cwd.startswith(str(under)):
            continue
        if marker in cmdline and state != "Z":
            found.append(cmdline)
    return found


@pytest.fixture
def run_process(simulate: Any, tmp_path: Path):
    def run(node: str, *args: str, **kw: Any) -> Any:
        opts = {"mode": "process", "node_count": 2, "time_limit": 2.0, "rate": 20.0, "bin_args": list(args)}
        opts.update(kw)
        result = simulate(node, **opts)
        name = Path(node_path(node)).name
        assert processes_mentioning(name, under=tmp_path) == [], "a node process outlived the run"
        assert processes_mentioning("sleep 1000", under=tmp_path) == []
        return result

    return run


def test_sdk_node_runs_as_real_processes(run_process: Any) -> None:
    result = run_process("echo", node_count=3)
    assert result.valid is True
    assert result.results["mode"] == "process"
    assert result.results["stats"]["ok"] == result.results["stats"]["count"] > 20
    log = (result.run_dir / "node-logs" / "n0.log").read_text()
    assert "started pid" in log


def test_raw_protocol_node_is_checked_like_any_other(run_process: Any) -> None:
    assert run_process(RAW).valid is True


def test_garbage_on_stdout_is_reported_and_the_run_goes_on(run_process: Any) -> None:
    result = run_process(RAW, "garbage")
    errors = result.results["node_errors"]
    assert any("not a protocol message: not JSON" in e["message"] and "this is not json" in e["message"] for e in errors)
    assert result.results["stats"]["ok"] > 10


def test_a_node_that_exits_ends_the_run_as_unknown(run_process: Any) -> None:
    result = run_process(RAW, "exit")
    assert result.exit_code == 2
    assert "exited on its own (status 3); see node-logs/n" in result.results["error"]


def test_stderr_lines_are_stamped_whole_even_when_written_in_pieces(run_process: Any) -> None:
    result = run_process(RAW, "chatter", "exit")
    logs = {p.stem: p.read_text().splitlines() for p in (result.run_dir / "node-logs").glob("*.log")}
    for lines in logs.values():
        assert all(re.match(r"^ *\d+\.\d{6} ", line) for line in lines), lines
    texts = {n: [re.sub(r"^ *\d+\.\d{6} ", "", line) for line in lines] for n, lines in logs.items()}
    assert all("partial line" in t and "second line" in t for t in texts.values()), texts
    assert any("last words" in t for t in texts.values())  # the unfinished line of the one that died


def test_a_node_ignoring_sigterm_is_killed(run_process: Any) -> None:
    result = run_process(RAW, "ignore-term")
    assert result.valid is True
    assert "ignored SIGTERM; killed" in (result.run_dir / "node-logs" / "n0.log").read_text()


def test_children_of_a_node_die_with_it(run_process: Any) -> None:
    assert run_process(RAW, "fork").valid is True  # the fixture checks `sleep 1000` is gone


def test_an_oversized_line_is_dropped_with_a_clear_error(run_process: Any) -> None:
    result = run_process(RAW, "huge")
    assert any("over 1048576 bytes" in e["message"] for e in result.results["node_errors"])
    assert result.valid is True


def test_a_flooding_node_ends_the_run(run_process: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit is lowered to 1,000 a second: at the real 10,000 a harness short of CPU
    (a loaded CI machine) read fewer lines than that per wall second, never saw a flood,
    and the run ended as merely invalid. The node writes as fast as its pipe allows, so
    any limit shows the same mechanism."""
    from distlab.runtime import factory
    from distlab.runtime.process.cluster import ProcessCluster

    class LowLimit(ProcessCluster):
        def __init__(self, *args: Any, **kw: Any) -> None:
            super().__init__(*args, **{**kw, "flood_limit": 1_000})

    monkeypatch.setattr(factory, "ProcessCluster", LowLimit)
    result = run_process(RAW, "flood")
    assert result.exit_code == 2
    assert "flooded the network: over 1000 messages within one" in result.results["error"]


def test_a_missing_or_non_executable_bin_is_a_clear_error(tmp_path: Path, simulate: Any) -> None:
    script = tmp_path / "node.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    from distlab.options import RunError

    with pytest.raises(RunError, match="not executable"):
        simulate(str(script), mode="process")


def test_kill_and_pause_faults_on_real_processes_keep_their_working_directory(run_process: Any) -> None:
    result = run_process("unique-ids", workload="unique-ids", node_count=3, time_limit=6, rate=50,
                         nemesis=["kill", "pause"], nemesis_interval=1)
    assert result.valid is True, result.results
    ops = result.results["nemesis_ops"]
    assert ops.get("start-kill", 0) + ops.get("start-pause", 0) >= 2
    history = read_jsonl(result.run_dir / "history.jsonl")
    killed = {n for h in history if h["f"] == "start-kill" and h["type"] == "info" for n in h["value"]}
    for node in killed:
        # the epoch file lives in the node's own working directory and survived its restarts
        storage = result.run_dir / "nodes" / node / "distlab-data" / f"{node}.jsonl"
        epochs = [orjson.loads(line)["v"] for line in storage.read_bytes().splitlines()]
        assert epochs[-1] >= 2
        assert "killed (SIGKILL)" in (result.run_dir / "node-logs" / f"{node}.log").read_text()


def test_partitions_and_latency_are_applied_by_the_router(tmp_path: Path, run_process: Any) -> None:
    result = run_process("gset", workload="echo", node_count=3, time_limit=4, latency=20, nemesis=["partition"],
                         nemesis_interval=1)
    trace = [orjson.loads(line) for line in (result.run_dir / "messages.jsonl").read_bytes().splitlines()]
    sent = {ev["id"]: ev for ev in trace if ev["ev"] == "send"}
    between_nodes = {i for i, ev in sent.items() if ev["src"].startswith("n") and ev["dest"].startswith("n")}
    recv = [ev for ev in trace if ev["ev"] == "recv" and ev["id"] in between_nodes]
    delays = [ev["t"] - sent[ev["id"]]["t"] for ev in recv]
    assert delays and min(delays) >= 19_000_000  # 20 ms constant latency, in ns
    assert any(ev["ev"] == "drop" and ev.get("why") == "partition" for ev in trace)


def test_mode_is_chosen_from_the_bin(tmp_path: Path) -> None:
    from distlab.options import TestOptions

    def mode(bin_path: str) -> str:
        return TestOptions(workload="echo", bin=bin_path).resolved_mode()

    assert mode(node_path("echo")) == "sim"
    assert mode(RAW) == "process"  # mentions distlab in a docstring, imports it nowhere
    assert mode(sys.executable) == "process"


def test_a_message_to_nowhere_gets_error_1_back(run_process: Any) -> None:
    result = run_process(RAW, "nowhere", node_count=1)
    assert any("unknown destination 'n99'" in e["message"] for e in result.results["node_errors"])
    assert "got error 1: no such node or service: n99" in (result.run_dir / "node-logs" / "n0.log").read_text()


def test_memory_limit_stops_a_hog(run_process: Any) -> None:
    result = run_process(RAW, "hog", node_count=1, max_memory_mb=256)
    assert result.exit_code == 2
    assert "exited on its own (status 1)" in result.results["error"]
    assert "MemoryError" in (result.run_dir / "node-logs" / "n0.log").read_text()


def test_make_runtime_gives_real_processes_behind_the_seam(tmp_path: Path) -> None:
    """Process mode: a real-time loop whose `now` is its time(), and no clock capability."""
    import random

    from distlab.options import TestOptions
    from distlab.runtime.factory import make_runtime
    from distlab.runtime.process.cluster import ProcessCluster
    from distlab.runtime.process.loop import RealLoop

    opts = TestOptions(workload="echo", bin=RAW, node_count=2, mode="process")
    with open(tmp_path / "messages.jsonl", "wb") as trace:
        loop, cluster = make_runtime(opts, opts.network(random.Random(0)), tmp_path, trace)
        try:
            assert isinstance(loop, RealLoop) and isinstance(cluster, ProcessCluster)
            before = loop.now
            assert 0.0 <= before <= loop.time() <= loop.now
            assert cluster.capabilities == frozenset()
        finally:
            cluster.close()
            loop.shutdown()
