"""--mode net without tc netem: delay, jitter and reordering by the NFQUEUE shaper, duplication by nftables dup.

The kernel here has no netem, so these faults are made by holding packets in the
kernel's nfnetlink queue (distlab/runtime/net/shaper.py) and by nftables' `dup`.
Everything is measured on real packets between namespaces: a TCP round trip
held by the delay, UDP datagrams arriving twice or out of order, whole runs whose
node-to-node messages take at least the delay, a Raft KV that stays
linearizable under jitter and partitions, and a stale-reading one that is caught.
The shaper's decisions are also checked without root on fake packets.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from distlab.options import RunError, TestOptions
from distlab.runtime.net import kernel
from distlab.runtime.net.kernel import Fabric
from distlab.runtime.net.shaper import Shaper
from distlab.runtime.network import Latency
from tests.test_net import KVRAFT, _in_ns, ours
from tests.test_process import processes_mentioning

pytestmark = pytest.mark.timeout(60)


def _can_shape() -> str | None:
    try:
        found = kernel.probe()
    except kernel.NetUnavailable as exc:
        return str(exc)
    if not (found["shaper"] and found["dup"]):
        return f"the shaper or nftables dup is unavailable here: {found['shaper_problem'] or 'no dup'}"
    return None


needs_shaper = pytest.mark.skipif(_can_shape() is not None, reason=str(_can_shape()))


def shapers_left() -> list[str]:
    """Shaper processes any fabric of this test process still runs."""
    return processes_mentioning(f"--fabric {os.getpid():06x}")


@pytest.fixture
def run_net(simulate: Any, tmp_path: Path):
    """A whole --mode net run (3 nodes), after which no namespace, link, shaper or node is left."""

    def run(node: str, **kw: Any) -> Any:
        opts = {"mode": "net", "node_count": 3, "time_limit": 3.0, "rate": 20.0}
        opts.update(kw)
        result = simulate(node, **opts)
        assert ours() == [], "a namespace or link outlived the run"
        assert shapers_left() == [], "a delay shaper outlived the run"
        assert processes_mentioning(Path(node).name, under=tmp_path) == [], "a node outlived the run"
        return result

    return run


# ----- the shaper's decisions, on fake packets (no root needed) -------------------------


class FakePacket:
    def __init__(self, n: int) -> None:
        self.n = n
        self.accepted_at: float | None = None
        self.now = 0.0
        self.sent_at = 0.0

    def accept(self) -> None:
        assert self.accepted_at is None, "a verdict given twice"
        self.accepted_at = self.now


def _feed(shaper: Shaper, n: int, gap: float = 0.001) -> list[FakePacket]:
    """n packets arriving every `gap` seconds, the shaper releasing each at its due time
    (as its loop does); returns them once every one is released."""
    packets = [FakePacket(i) for i in range(n)]

    def advance(to: float) -> None:
        while shaper.held and shaper.held[0][0] <= to:
            due = shaper.held[0][0]
            for p in packets:
                p.now = due
            shaper.release(due)

    for i, pkt in enumerate(packets):
        now = i * gap
        advance(now)
        for p in packets:
            p.now = now
        pkt.sent_at = now
        shaper.arrive(pkt, now)
    advance(float("inf"))
    return packets


def test_constant_delay_holds_every_packet_exactly_that_long_in_order() -> None:
    shaper = Shaper(seed=1)
    shaper.configure({"latency_ms": 40, "dist": "constant"})
    packets = _feed(shaper, 50)
    assert all(p.accepted_at == p.sent_at + 0.040 for p in packets)
    assert shaper.stats()["delayed"] == 50 and shaper.stats()["held"] == 0
    assert shaper.stats()["mean_delay_ms"] == 40.0


def test_jitter_is_drawn_from_the_run_latency_and_is_reproducible_by_seed() -> None:
    def delays(seed: int, dist: str) -> list[float]:
        shaper = Shaper(seed)
        shaper.configure({"latency_ms": 20, "dist": dist})
        return [p.accepted_at - p.sent_at for p in _feed(shaper, 400)]  # type: ignore[operator]

    uniform = delays(3, "uniform")
    assert uniform == delays(3, "uniform") and uniform != delays(4, "uniform")
    assert min(uniform) >= 0 and max(uniform) <= 0.040 + 1e-9
    assert 0.017 < statistics.mean(uniform) < 0.023
    exponential = delays(3, "exponential")
    assert 0.016 < statistics.mean(exponential) < 0.024 and max(exponential) > 0.040  # a long tail


def test_reorder_sends_a_share_at_once_and_delays_the_rest() -> None:
    shaper = Shaper(seed=5)
    shaper.configure({"latency_ms": 30, "reorder": 0.25})
    packets = _feed(shaper, 400)
    at_once = [p for p in packets if p.accepted_at == p.sent_at]
    stats = shaper.stats()
    assert stats["reordered"] == len(at_once) and 70 < len(at_once) < 130
    assert stats["delayed"] + stats["reordered"] == 400
    order = [p.n for p in sorted(packets, key=lambda p: (p.accepted_at, p.n))]
    assert order != sorted(order)  # packets sent at once overtook delayed ones


def test_no_delay_passes_packets_at_once_and_bad_settings_are_refused() -> None:
    shaper = Shaper(seed=1)
    packets = _feed(shaper, 5)
    assert [p.accepted_at for p in packets] == [p.sent_at for p in packets]
    assert shaper.stats()["passed"] == 5
    with pytest.raises(ValueError, match="reorder"):
        shaper.configure({"reorder": 2})
    with pytest.raises(ValueError, match="distribution"):
        shaper.configure({"latency_ms": 5, "dist": "pareto"})


# ----- real packets between namespaces --------------------------------------------------

_ECHO = """
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(({addr!r}, 7002)); s.listen(4); print("up", flush=True)
while True:
    c, _ = s.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while (d := c.recv(64)):
        c.sendall(d)
    c.close()
"""

_PING = """
import socket, time, json
c = socket.create_connection(({addr!r}, 7002), timeout=5); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
rtts = []
for i in range(8):
    t0 = time.monotonic(); c.sendall(b"x"); c.recv(64); rtts.append((time.monotonic() - t0) * 1000)
print(json.dumps(rtts))
"""


def _rtts(fabric: Fabric, src: str, dest: str) -> list[float]:
    proc = _in_ns(fabric, src, _PING.format(addr=fabric.addresses[dest]))
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


@needs_shaper
def test_a_delayed_packet_is_held_by_the_kernel_tcp_round_trips_take_the_delay_both_ways() -> None:
    fabric = Fabric(["a", "b"], shaper=True, dup=True, seed=1)
    fabric.setup()
    server = None
    try:
        server = _in_ns(fabric, "b", _ECHO.format(addr=fabric.addresses["b"]))
        assert server.stdout.readline().strip() == "up"  # type: ignore[union-attr]
        before = _rtts(fabric, "a", "b")
        fabric.set_netem(Latency(0.030))  # 30 ms on each node's egress: 60 ms a round trip
        assert len(fabric.shapers) == 2 and shapers_left()
        delayed = _rtts(fabric, "a", "b")
        stats = fabric.stats()
        fabric.set_netem(Latency())  # at run time, back to no delay (the shapers stay, passing packets)
        after = _rtts(fabric, "a", "b")
        print(f"RTT ms without {statistics.median(before):.2f}, with 30 ms each way "
              f"{statistics.median(delayed):.2f} (min {min(delayed):.2f}), cleared {statistics.median(after):.2f}")
        assert min(delayed) >= 60.0, delayed
        assert statistics.median(before) < 30.0 and statistics.median(after) < 30.0, (before, after)
        assert stats["a"]["packets_delayed"] >= 8 and stats["b"]["packets_delayed"] >= 8, stats
        assert stats["a"]["packets_reordered"] == 0
    finally:
        if server is not None:
            server.kill()
            server.wait()
        fabric.close()
    assert ours() == [] and shapers_left() == []
    assert fabric._final["a"]["delayed"] >= 8 and fabric._final["a"]["held"] == 0


_UDP_SINK = """
import socket, json
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind(({addr!r}, 7003)); s.settimeout(1.5); print("up", flush=True)
got = []
try:
    while True:
        got.append(int(s.recv(64)))
except socket.timeout:
    print(json.dumps(got), flush=True)
"""

_UDP_SEND = """
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range({n}):
    s.sendto(b"%d" % i, ({addr!r}, 7003)); time.sleep({gap})
"""


def _udp(fabric: Fabric, n: int, gap: float) -> list[int]:
    """Send datagrams 0..n-1 from a to b; what b received, in arrival order."""
    sink = _in_ns(fabric, "b", _UDP_SINK.format(addr=fabric.addresses["b"]))
    assert sink.stdout.readline().strip() == "up"  # type: ignore[union-attr]
    sender = _in_ns(fabric, "a", _UDP_SEND.format(n=n, gap=gap, addr=fabric.addresses["b"]))
    assert sender.wait(30) == 0
    out, err = sink.communicate(timeout=30)
    return json.loads(out.splitlines()[-1])  # type: ignore[no-any-return]


@needs_shaper
def test_nftables_dup_makes_datagrams_arrive_twice_and_counts_each_copy() -> None:
    fabric = Fabric(["a", "b"], shaper=True, dup=True, seed=2)
    fabric.setup()
    try:
        fabric.set_netem(Latency(), duplication=0.3)
        assert fabric.shapers == {}  # duplication alone needs no shaper
        got = _udp(fabric, 200, 0.001)
        duplicated = fabric.stats()["a"]["packets_duplicated"]
        twice = [i for i in set(got) if got.count(i) == 2]
        print(f"200 datagrams sent, {len(got)} received, {len(twice)} twice; nftables counted {duplicated}")
        assert sorted(set(got)) == list(range(200))
        assert duplicated > 0 and len(twice) > 0
        assert len(got) == 200 + duplicated  # every copy counted arrived, and nothing else did
        assert max(got.count(i) for i in set(got)) == 2  # a copy is never copied again
        fabric.set_netem(Latency(), duplication=0.0)
        assert sorted(_udp(fabric, 50, 0.001)) == list(range(50))  # cleared: once each
        assert fabric.stats()["a"]["packets_duplicated"] == duplicated
    finally:
        fabric.close()
    assert ours() == [] and shapers_left() == []


@needs_shaper
def test_reordering_is_seen_on_udp_sequence_numbers_and_a_constant_delay_alone_keeps_order() -> None:
    fabric = Fabric(["a", "b"], shaper=True, dup=True, seed=3)
    fabric.setup()
    try:
        fabric.set_netem(Latency(0.030))
        in_order = _udp(fabric, 60, 0.002)
        fabric.set_netem(Latency(0.030), reorder=0.3)
        mixed = _udp(fabric, 100, 0.002)
        stats = fabric.stats()["a"]
    finally:
        fabric.close()
    inversions = sum(1 for x, y in zip(mixed, mixed[1:], strict=False) if y < x)
    print(f"constant 30 ms: {len(in_order)} datagrams in order; with reorder 30%: {inversions} inversions, "
          f"{stats['packets_reordered']} sent at once, {stats['packets_delayed']} delayed")
    assert in_order == list(range(60))
    assert sorted(mixed) == list(range(100))
    assert inversions > 0 and stats["packets_reordered"] > 0
    assert ours() == [] and shapers_left() == []


@needs_shaper
def test_a_dead_shapers_packets_are_dropped_never_sent_undelayed() -> None:
    """No --queue-bypass: once a's shaper is gone, a's packets go nowhere (the run says why, see below)."""
    fabric = Fabric(["a", "b"], shaper=True, dup=True, seed=4)
    fabric.setup()
    try:
        fabric.set_netem(Latency(0.010))
        assert sorted(_udp(fabric, 20, 0.001)) == list(range(20))
        fabric.shapers["a"].kill()
        fabric.shapers["a"].wait()
        assert _udp(fabric, 20, 0.001) == []
        assert fabric.shaper_end("a") == "exited (signal 9)"
    finally:
        fabric.close()
    assert ours() == [] and shapers_left() == []


# ----- whole runs -------------------------------------------------------------------------


def _node_to_node_ms(run_dir: Path) -> list[float]:
    """Each node-to-node message's time from its send to its receive, as the trace saw them."""
    sent: dict[int, int] = {}
    out = []
    for line in (run_dir / "messages.jsonl").read_bytes().splitlines():
        ev = json.loads(line)
        if ev["ev"] == "send" and ev["src"].startswith("n") and ev["dest"].startswith("n"):
            sent[ev["id"]] = ev["t"]
        elif ev["ev"] == "recv" and ev["id"] in sent:
            out.append((ev["t"] - sent.pop(ev["id"])) / 1e6)
    return out


def _ok_op_ms(run_dir: Path) -> list[float]:
    """Latency of each operation that succeeded, from the history."""
    invoked: dict[int, int] = {}
    out = []
    for line in (run_dir / "history.jsonl").read_bytes().splitlines():
        op = json.loads(line)
        if op["type"] == "invoke":
            invoked[op["process"]] = op["time"]
        elif op["type"] == "ok":
            out.append((op["time"] - invoked.pop(op["process"])) / 1e6)
    return out


@needs_shaper
def test_a_run_with_latency_takes_at_least_the_delay_node_to_node_and_one_without_much_less(run_net: Any) -> None:
    delayed = run_net(KVRAFT, workload="lin-kv", time_limit=4.0, rate=20.0, latency=40.0, seed=11)
    plain = run_net(KVRAFT, workload="lin-kv", time_limit=3.0, rate=20.0, seed=11)
    assert delayed.valid is True and plain.valid is True
    r = delayed.results
    assert r["net"]["delay"] == "NFQUEUE shaper: constant, mean 40 ms"
    assert sum(s["packets_delayed"] for s in r["net"]["kernel"].values()) > 100
    assert "packets_delayed" not in plain.results["net"]["kernel"]["n0"]  # no shaper without a delay
    hops, base = _node_to_node_ms(delayed.run_dir), _node_to_node_ms(plain.run_dir)
    ops = _ok_op_ms(delayed.run_dir)
    print(f"node to node ms: median {statistics.median(hops):.1f} with 40 ms, {statistics.median(base):.2f} without "
          f"({len(hops)} and {len(base)} messages); ok ops: min {min(ops):.1f} ms with the delay")
    # a write commits after at least one round trip between nodes: 2 x 40 ms, read by the harness's own clock
    assert min(ops) >= 40.0, sorted(ops)[:5]
    assert statistics.median(hops) >= 38.0  # the trace stamps both ends when the harness reads them
    assert statistics.median(base) < 20.0
    prom = (delayed.run_dir / "metrics.prom").read_text().splitlines()
    assert len([ln for ln in prom if ln.startswith("distlab_kernel_packets_shaped_total") and 'how="delayed"' in ln]) == 3


@needs_shaper
def test_raft_kv_stays_linearizable_under_jitter_reordering_duplication_and_partitions(run_net: Any) -> None:
    result = run_net(KVRAFT, workload="lin-kv", time_limit=8.0, rate=25.0, concurrency="2n", latency=15.0,
                     latency_dist="uniform", reorder=0.1, duplication=0.05, nemesis=["partition"],
                     nemesis_interval=1.5, nemesis_schedule="fixed", seed=6)
    r = result.results
    assert result.valid is True, r.get("error")
    assert r["net"]["delay"] == "NFQUEUE shaper: uniform, mean 15 ms, 10% sent at once (reordered)"
    kern = r["net"]["kernel"]
    total = {k: sum(s[k] for s in kern.values()) for k in kern["n0"]}
    print(f"kvraft under 15 ms uniform jitter, 10% reordered, 5% duplication and partitions: {total}; "
          f"ok {r['stats']['ok']}")
    assert total["packets_dropped_partition"] > 0 and total["packets_delayed"] > 0
    assert total["packets_duplicated"] > 0 and total["packets_reordered"] > 0
    assert r["nemesis_ops"].get("start-partition", 0) >= 1
    assert r["stats"]["ok"] > 20


@needs_shaper
def test_stale_reads_are_caught_over_a_delayed_network(run_net: Any) -> None:
    """The known-bad kvraft variant answers reads from its own copy: with followers learning of
    commits 40 ms late, a read at a follower returns a value already overwritten."""
    result = run_net(KVRAFT, workload="lin-kv", bin_args=["--stale-reads"], time_limit=6.0, rate=40.0,
                     concurrency="2n", latency=40.0, seed=8)
    r = result.results
    print("stale reads:", r["workload"].get("explanation", "")[:200])
    assert result.valid is False
    assert r["workload"]["valid"] is False
    assert sum(s["packets_delayed"] for s in r["net"]["kernel"].values()) > 0


@needs_shaper
def test_a_shaper_that_dies_ends_the_run_in_one_line(run_net: Any) -> None:
    killed: list[str] = []

    def kill_one() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not killed:
            for pid in os.listdir("/proc"):
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                except OSError:
                    continue
                if f"--fabric {os.getpid():06x}" in cmd and "--seed 1009" in cmd:  # seed 1: n0's shaper
                    time.sleep(1.0)
                    os.kill(int(pid), signal.SIGKILL)
                    killed.append(pid)
                    break
            time.sleep(0.1)

    killer = threading.Thread(target=kill_one, daemon=True)
    killer.start()
    result = run_net(KVRAFT, workload="lin-kv", time_limit=10.0, rate=20.0, latency=10.0, seed=1)
    killer.join(5)
    assert killed, "the test never found n0's shaper"
    assert result.exit_code == 2
    error = result.results["error"]
    assert "the delay shaper in n0's namespace exited (signal 9)" in error and "\n" not in error, error
    assert shapers_left() == []


# ----- what is refused, and where ----------------------------------------------------------


def test_without_netem_shaper_or_dup_the_options_are_refused_naming_what_to_install(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(kernel, "_probe_cache", {"result": {
        "netem": False, "shaper": False, "shaper_problem": "iptables is not installed", "dup": False}})
    monkeypatch.setattr(kernel.os, "geteuid", lambda: 0)
    opts = TestOptions(workload="lin-kv", bin=KVRAFT, mode="net", node_count=3, latency=10, store=str(tmp_path))
    with pytest.raises(RunError, match=r"^--mode net: --latency needs tc netem or the NFQUEUE shaper; .*"
                                       r"iptables is not installed .*libnetfilter-queue-dev.*distlab\[net\]"):
        opts.validate()
    dup = TestOptions(workload="lin-kv", bin=KVRAFT, mode="net", node_count=3, duplication=0.1, store=str(tmp_path))
    with pytest.raises(RunError, match="--duplication needs tc netem or nftables dup"):
        dup.validate()
    loss = TestOptions(workload="lin-kv", bin=KVRAFT, mode="net", node_count=3, loss=0.1, store=str(tmp_path))
    loss.validate()  # loss is nftables alone
    monkeypatch.setattr(kernel, "_probe_cache", {"result": {
        "netem": False, "shaper": True, "shaper_problem": "", "dup": True}})
    opts.validate()
    dup.validate()
    assert opts._net_capabilities() >= {"kernel-network", "kernel-delay", "kernel-duplication"}
    assert "netem" not in opts._net_capabilities()


def test_a_fabric_with_neither_refuses_delay_and_duplication(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(kernel, "_run", lambda args, stdin=None, check=True: calls.append(args))
    fabric = Fabric(["a"], netem=False, shaper=False, dup=False, tag="abcdef2")
    with pytest.raises(RuntimeError, match="neither .*libnetfilter-queue-dev"):
        fabric.set_netem(Latency(0.01))
    with pytest.raises(RuntimeError, match="duplication needs tc netem or nftables dup"):
        fabric.set_netem(Latency(), duplication=0.1)
    fabric.set_netem(Latency())  # nothing asked: fine
    assert calls == []


@needs_shaper
def test_the_probe_finds_the_shaper_and_dup_here() -> None:
    found = kernel.probe()
    assert found["shaper"] is True and found["shaper_problem"] == "" and found["dup"] is True
    code = "import sys; from distlab.runtime.net.kernel import probe; print(probe()['shaper'])"
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "True" and ours() == []


def test_reorder_is_the_kernels_and_needs_a_delay(tmp_path: Path) -> None:
    def opts(**kw: Any) -> TestOptions:
        return TestOptions(workload="lin-kv", bin=KVRAFT, node_count=3, store=str(tmp_path), **kw)

    with pytest.raises(RunError, match="^--reorder is made by the kernel: --mode net only"):
        opts(mode="sim", latency=10, reorder=0.2).validate()
    with pytest.raises(RunError, match="^--reorder is made by the kernel"):
        opts(mode="process", latency=10, reorder=0.2).validate()
    with pytest.raises(RunError, match="^--reorder 1.5 is not a fraction"):
        opts(mode="sim", reorder=1.5).validate()
    if _can_shape() is None:
        with pytest.raises(RunError, match="^--reorder needs --latency"):
            opts(mode="net", reorder=0.2).validate()
        opts(mode="net", latency=10, reorder=0.2).validate()


def test_a_delay_set_mid_run_survives_a_loss_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    """KernelNetwork keeps what set_netem asked for when the loss nemesis later changes loss and duplication."""
    import random

    from distlab.runtime.net.kernel import KernelNetwork

    asked: list[tuple[Any, ...]] = []

    class FakeFabric:
        netem, dup = False, True

        def apply_rules(self, **kw: Any) -> None:
            pass

        def set_netem(self, latency: Latency, duplication: float = 0.0, reorder: float = 0.0) -> None:
            asked.append((latency.mean, latency.dist, duplication, reorder))

    net = KernelNetwork(random.Random(0), Latency(0.01), duplication=0.0)
    net.attach(FakeFabric())  # type: ignore[arg-type]
    net.set_netem(Latency(0.05, "uniform"), reorder=0.2)
    net.set_loss(0.3, 0.1)
    net.restore_loss()
    assert asked == [(0.01, "constant", 0.0, 0.0), (0.05, "uniform", 0.0, 0.2),
                     (0.05, "uniform", 0.1, 0.2), (0.05, "uniform", 0.0, 0.2)]


@needs_shaper
def test_a_harness_killed_outright_leaves_no_shaper_running(tmp_path: Path) -> None:
    """A shaper reads its stdin from the harness: when the harness dies, end of input ends the shaper
    (its namespaces are then swept by the next run, as tests/test_net.py checks)."""
    code = textwrap.dedent("""
        import os
        from distlab.runtime.net.kernel import Fabric
        from distlab.runtime.network import Latency
        f = Fabric(["a", "b"], shaper=True, dup=True); f.setup()
        f.set_netem(Latency(0.01))
        print(f.tag, flush=True)
        os._exit(0)  # no close, no atexit: as if SIGKILLed
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    tag = proc.stdout.strip()
    deadline = time.monotonic() + 10
    while processes_mentioning(f"--fabric {tag}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_mentioning(f"--fabric {tag}") == []
    kernel.sweep_stale()
    assert kernel.leftovers(tag) == []
