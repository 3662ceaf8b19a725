"""--mode net: nodes in network namespaces, TCP through a bridge, faults made by the kernel.

Most tests need root (namespaces, nftables); CI runs as root, and they are
skipped elsewhere with the line `--mode net` itself prints there. Every run
must leave no namespace, link or process behind.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from distlab.options import RunError, TestOptions
from distlab.runtime.net import kernel
from distlab.runtime.net.kernel import Fabric, NetUnavailable
from tests.conftest import NODES
from tests.test_process import processes_mentioning

KVRAFT = str(Path(__file__).resolve().parents[1] / "distlab" / "systems" / "kvraft" / "node.py")
FORWARD_RAW = str(NODES / "raw" / "forward_leader.py")


def _why_not() -> str | None:
    try:
        kernel.probe()
    except NetUnavailable as exc:
        return str(exc)
    return None


needs_net = pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))


def ours() -> list[str]:
    """Namespaces and links any fabric of this test process still holds."""
    return kernel.leftovers(f"{os.getpid():06x}")


@pytest.fixture
def run_net(simulate: Any, tmp_path: Path):
    def run(node: str, **kw: Any) -> Any:
        opts = {"mode": "net", "node_count": 3, "time_limit": 3.0, "rate": 20.0}
        opts.update(kw)
        result = simulate(node, **opts)
        assert ours() == [], "a namespace or link outlived the run"
        assert processes_mentioning("agent.py", under=tmp_path) == [], "a proxy outlived the run"
        assert processes_mentioning(Path(node).name, under=tmp_path) == [], "a node outlived the run"
        assert processes_mentioning(f"--fabric {os.getpid():06x}") == [], "a delay shaper outlived the run"
        return result

    return run


# ----- without root: one clear line --------------------------------------------------


def test_without_namespaces_one_line_says_so_and_exit_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(kernel, "_probe_cache", {})
    monkeypatch.setattr(kernel.os, "geteuid", lambda: 1000)
    opts = TestOptions(workload="lin-kv", bin=KVRAFT, mode="net", node_count=3, store=str(tmp_path))
    with pytest.raises(RunError, match=r"^--mode net needs root .*use --mode process$"):
        opts.validate()
    env = dict(os.environ)
    code = textwrap.dedent(f"""
        import os, sys
        os.geteuid = lambda: 1000
        from distlab.cli.commands import cli
        cli(["test", "-w", "lin-kv", "--bin", {KVRAFT!r}, "--mode", "net", "--time-limit", "1",
             "--node-count", "3", "--store", {str(tmp_path)!r}], prog_name="distlab")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
    assert len(lines) == 1 and "--mode net needs root" in lines[0], lines


# ----- the kernel's network ------------------------------------------------------------


def _in_ns(fabric: Fabric, node: str, script: str, timeout: float = 10) -> subprocess.Popen[str]:
    return subprocess.Popen([*fabric.exec_prefix(node), sys.executable, "-c", textwrap.dedent(script)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _can_connect(fabric: Fabric, src: str, dest: str) -> bool:
    proc = _in_ns(fabric, src, f"""
        import socket, sys
        try:
            socket.create_connection(({fabric.addresses[dest]!r}, 7001), timeout=0.5).close()
        except OSError:
            sys.exit(1)
    """)
    return proc.wait(10) == 0


@needs_net
def test_fabric_connects_namespaces_partitions_them_and_leaves_nothing() -> None:
    fabric = Fabric(["a", "b", "c"], netem=False)
    fabric.setup()
    servers = []
    try:
        assert sorted(ours()) == sorted([*fabric.namespaces.values(), fabric.bridge,
                                         *(f"dl{fabric.tag}v{i}" for i in range(3))])
        for node in ("b", "c"):
            servers.append(_in_ns(fabric, node, f"""
                import socket
                s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(({fabric.addresses[node]!r}, 7001)); s.listen(64)
                print("up", flush=True)
                while True:
                    s.accept()[0].close()
            """))
            assert servers[-1].stdout.readline().strip() == "up"  # type: ignore[union-attr]
        assert _can_connect(fabric, "a", "b") and _can_connect(fabric, "a", "c")
        fabric.apply_rules(grudge={"b": frozenset({"a"})})  # b drops what a sends
        assert not _can_connect(fabric, "a", "b")
        assert _can_connect(fabric, "a", "c")
        fabric.apply_rules(grudge={})
        assert _can_connect(fabric, "a", "b")
        fabric.apply_rules(loss=1.0)  # every packet lost
        assert not _can_connect(fabric, "a", "c")
        stats = fabric.stats()
        assert stats["b"]["packets_dropped_partition"] >= 1
        assert stats["c"]["packets_dropped_loss"] >= 1
        assert stats["a"]["tcp_retransmits"] + stats["a"]["packets_dropped_loss"] >= 0
    finally:
        for proc in servers:
            proc.kill()
            proc.wait()
        fabric.close()
    assert ours() == []


@needs_net
def test_a_failed_setup_removes_what_it_built(monkeypatch: pytest.MonkeyPatch) -> None:
    real_run = kernel._run

    def failing(args: list[str], stdin: str | None = None, check: bool = True) -> Any:
        if "addr" in args and args[-1] == "eth0" and "10.77.0.3/24" in args:
            raise RuntimeError("simulated failure on the second node")
        return real_run(args, stdin, check)

    monkeypatch.setattr(kernel, "_run", failing)
    fabric = Fabric(["a", "b", "c"])
    with pytest.raises(RuntimeError, match="simulated failure"):
        fabric.setup()
    monkeypatch.setattr(kernel, "_run", real_run)
    assert ours() == []


@needs_net
def test_a_harness_killed_outright_is_swept_by_the_next_run(tmp_path: Path) -> None:
    code = textwrap.dedent("""
        import os
        from distlab.runtime.net.kernel import Fabric
        f = Fabric(["a", "b"]); f.setup()
        print(f.tag, flush=True)
        os._exit(0)  # no close, no atexit: as if SIGKILLed
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    tag = proc.stdout.strip()
    assert kernel.leftovers(tag), "the dead harness's namespaces should still be there"
    kernel.sweep_stale()
    assert kernel.leftovers(tag) == []


# ----- whole runs ---------------------------------------------------------------------


@needs_net
def test_raft_kv_over_tcp_stays_linearizable_through_partitions_kills_and_pauses(run_net: Any) -> None:
    result = run_net(KVRAFT, workload="lin-kv", time_limit=12.0, rate=30.0, concurrency="2n",
                     nemesis=["partition", "kill", "pause"], nemesis_interval=1.5, nemesis_schedule="stagger", seed=3)
    r = result.results
    assert r["mode"] == "net"
    assert result.valid is True, r
    assert r["workload"]["valid"] is True
    ops = r["nemesis_ops"]
    assert ops.get("start-partition", 0) >= 1 and ops.get("start-kill", 0) >= 1, ops
    assert r["stats"]["ok"] > 20
    assert r["net"]["server_msgs"] > 100  # peer messages, seen through the proxies' events
    assert set(r["net"]["kernel"]) == {"n0", "n1", "n2"}
    trace = (result.run_dir / "messages.jsonl").read_bytes()
    assert b'"src":"n0","dest":"n1"' in trace or b'"src":"n1","dest":"n0"' in trace
    log = (result.run_dir / "node-logs" / "n1.log").read_text()
    assert "peers over TCP through the SDK's TCP transport" in log  # no proxy for an SDK node


@needs_net
def test_a_partition_is_made_by_nftables(run_net: Any) -> None:
    result = run_net(KVRAFT, workload="lin-kv", time_limit=6.0, rate=20.0,
                     nemesis=["partition"], nemesis_interval=0.7, nemesis_schedule="fixed", seed=5)
    assert result.valid is True
    kernel_stats = result.results["net"]["kernel"]
    assert sum(s["packets_dropped_partition"] for s in kernel_stats.values()) > 0, kernel_stats


@needs_net
def test_kernel_loss_shows_in_results(run_net: Any) -> None:
    result = run_net(KVRAFT, workload="lin-kv", time_limit=5.0, rate=20.0, loss=0.2, seed=7)
    r = result.results
    assert r["workload"]["valid"] is True
    kernel_stats = r["net"]["kernel"]
    assert sum(s["packets_dropped_loss"] for s in kernel_stats.values()) > 0, kernel_stats
    assert sum(s["tcp_retransmits"] for s in kernel_stats.values()) > 0, kernel_stats  # TCP hid the loss
    assert sum(s["packets_dropped_partition"] for s in kernel_stats.values()) == 0


@needs_net
def test_a_raw_protocol_node_forwarding_as_its_client_works_over_tcp(run_net: Any) -> None:
    result = run_net(FORWARD_RAW, workload="echo", time_limit=3.0, rate=20.0)
    assert result.valid is True
    assert result.results["availability"]["ok_fraction"] == 1.0
    assert result.results["net"]["server_msgs"] > 0  # forwarded to n0 over TCP
    assert "through a proxy that keeps its stdin/stdout" in (result.run_dir / "node-logs" / "n1.log").read_text()


@needs_net
def test_a_node_that_exits_ends_the_run_and_the_network_goes_too(run_net: Any) -> None:
    result = run_net(str(NODES / "raw" / "echo_raw.py"), workload="echo", bin_args=["exit"], time_limit=2.0)
    assert result.exit_code == 2
    assert "exited on its own (status 3)" in result.results["error"]


@needs_net
def test_faults_the_kernel_cannot_make_here_are_refused(tmp_path: Path) -> None:
    found = kernel.probe()
    if found["netem"] or found["shaper"]:
        pytest.skip("this machine can delay packets (tc netem or the NFQUEUE shaper): tests/test_net_shaper.py")
    opts = TestOptions(workload="lin-kv", bin=KVRAFT, mode="net", node_count=3, latency=10, store=str(tmp_path))
    with pytest.raises(RunError, match="netem"):
        opts.validate()
    clock = TestOptions(workload="lin-kv", bin=KVRAFT, mode="net", nemesis=["clock"], store=str(tmp_path))
    with pytest.raises(RunError, match="--nemesis clock needs"):
        clock.validate()


# ----- the TCP links themselves (no namespaces needed) -----------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_links_carry_lines_in_order_and_report_every_send_receive_and_drop() -> None:
    import asyncio

    from distlab.runtime.net.links import Links

    pa, pb, dead = _free_port(), _free_port(), _free_port()
    peers = {"a": ("127.0.0.1", pa), "b": ("127.0.0.1", pb), "gone": ("127.0.0.1", dead)}
    got: list[bytes] = []
    events: dict[str, list[bytes]] = {"a": [], "b": []}

    async def main() -> None:
        a = Links("a", peers["a"], peers, lambda line: None, events["a"].append)
        b = Links("b", peers["b"], peers, got.append, events["b"].append)
        await a.start()
        await b.start()
        lines = [b'{"src":"a","dest":"b","body":{"i":%d}}\n' % i for i in range(50)]
        for line in lines:
            assert a.send("b", line)
        assert not a.send("c0", b'{"src":"a","dest":"c0","body":{}}\n')  # no peer: the caller routes it
        assert a.send("gone", b'{"src":"a","dest":"gone","body":{}}\n')
        for _ in range(200):
            if len(got) == 50 and any(e.startswith(b"#d") for e in events["a"]):
                break
            await asyncio.sleep(0.01)
        a.close()
        b.close()
        assert got == lines

    asyncio.run(main())
    sends = [e for e in events["a"] if e.startswith(b"#s ")]
    assert len(sends) == 51 and sends[0].startswith(b"#s 1 {")
    assert events["a"][-1] == b"#d 51 refused\n"
    assert events["b"] == [b"#r a %d\n" % i for i in range(1, 51)]


@needs_net
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_stopped_harness_still_deletes_its_network(sig: str, tmp_path: Path) -> None:
    import signal
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "distlab", "test", "-w", "lin-kv", "--bin", KVRAFT, "--mode", "net",
         "--node-count", "3", "--time-limit", "60", "--rate", "10", "--store", str(tmp_path / "store")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path,
    )
    tag = f"{proc.pid:06x}"
    deadline = time.monotonic() + 30
    while len(kernel.leftovers(tag)) < 4 and time.monotonic() < deadline:  # the bridge and three namespaces
        time.sleep(0.2)
    assert kernel.leftovers(tag), "the run never built its network"
    time.sleep(1.0)
    proc.send_signal(getattr(signal, sig))
    proc.communicate(timeout=30)
    assert kernel.leftovers(tag) == []
    assert processes_mentioning("kvraft/node.py", under=tmp_path) == []


@needs_net
def test_the_loss_nemesis_drops_packets_in_the_kernel_and_the_summary_says_so(run_net: Any) -> None:
    from rich.console import Console

    from distlab.cli.run import print_summary

    result = run_net(KVRAFT, workload="lin-kv", time_limit=5.0, rate=20.0, nemesis=["loss"], nemesis_interval=10.0,
                     nemesis_schedule="stagger", seed=2)
    r = result.results
    assert r["workload"]["valid"] is True
    assert r["nemesis_ops"].get("start-loss") == 1
    kernel_stats = r["net"]["kernel"]
    assert sum(s["packets_dropped_loss"] for s in kernel_stats.values()) > 0, kernel_stats
    console = Console(record=True, width=200)
    print_summary(result, console)
    assert re.search(r"kernel +packets dropped: partition 0, loss [1-9]\d*; TCP retransmits \d+", console.export_text())


@needs_net
def test_a_raw_node_cannot_pass_its_lines_off_as_proxy_events(run_net: Any, tmp_path: Path) -> None:
    node = tmp_path / "hash_echo.py"
    node.write_text(textwrap.dedent("""
        import json, sys
        for line in sys.stdin:
            msg = json.loads(line)
            body = msg["body"]
            print("#s 7 " + json.dumps({"src": "n0", "dest": "n1", "body": {"type": "fake"}}), flush=True)
            print("#d 7 backlog", flush=True)
            reply = {"type": body["type"] + "_ok", "in_reply_to": body["msg_id"]}
            if body["type"] == "echo":
                reply["echo"] = body["echo"]
            print(json.dumps({"src": msg["dest"], "dest": msg["src"], "body": reply}), flush=True)
    """))
    result = run_net(str(node), workload="echo", node_count=2, time_limit=2.0)
    r = result.results
    assert r["net"]["server_msgs"] == 0 and r["net"]["dropped"] == 0
    assert any("not a protocol message" in str(e) for e in r["node_errors"]), r["node_errors"]


def test_netem_command_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """What tc is asked for (the kernel here may lack netem: the commands are checked, not run)."""
    from distlab.runtime.network import Latency

    calls: list[list[str]] = []
    monkeypatch.setattr(kernel, "_run", lambda args, stdin=None, check=True: calls.append(args))
    fabric = Fabric(["a", "b"], netem=True, tag="abcdef0")
    fabric.set_netem(Latency(0.02, "uniform"), duplication=0.05, reorder=0.25)
    ns = fabric.namespaces["a"]
    assert calls[0] == ["tc", "-n", ns, "qdisc", "replace", "dev", "eth0", "root", "netem",
                        "delay", "20.000ms", "20.000ms", "reorder", "25.000%", "duplicate", "5.000%"]
    assert len(calls) == 2
    fabric.set_netem(Latency(0.02, "uniform"), duplication=0.05, reorder=0.25)  # unchanged: nothing to do
    assert len(calls) == 2
    fabric.set_netem(Latency())  # cleared
    assert calls[2:] == [["tc", "-n", n, "qdisc", "del", "dev", "eth0", "root"] for n in fabric.namespaces.values()]
    without = Fabric(["a"], netem=False, tag="abcdef1")  # no netem, no shaper (tests/test_net_shaper.py has it)
    with pytest.raises(RuntimeError, match="need tc netem or the NFQUEUE shaper"):
        without.set_netem(Latency(0.01))
    without.set_netem(Latency())  # nothing asked: fine without netem


@needs_net
@pytest.mark.skipif(__import__("shutil").which("node") is None, reason="needs node (JavaScript)")
def test_a_javascript_node_gossips_over_tcp_through_partitions(run_net: Any) -> None:
    js = str(Path(__file__).resolve().parents[1] / "examples" / "js" / "node.js")
    result = run_net(js, workload="broadcast", node_count=5, time_limit=6.0, rate=10.0,
                     nemesis=["partition"], nemesis_interval=1.5, nemesis_schedule="stagger", seed=4)
    r = result.results
    assert result.valid is True, r
    assert r["net"]["server_msgs"] > 0
    assert sum(s["packets_dropped_partition"] for s in r["net"]["kernel"].values()) > 0
    assert "through a proxy" in (result.run_dir / "node-logs" / "n4.log").read_text()
