"""A run's Prometheus metrics (distlab.runmetrics): scraped over HTTP while a process-mode run
goes on, parsed with prometheus_client's own parser, and held against counts taken here,
independently, from the run's messages.jsonl."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from distlab.examples import example_path
from distlab.options import RunError, TestOptions
from distlab.runmetrics import RunMetrics, parse_addr
from distlab.runner import run_test
from tests.test_net import needs_net

CLIENT = re.compile(r"c\d+")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def families(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """name -> {sorted labels -> value}, for every sample of the exposition."""
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def by(samples: dict[tuple[tuple[str, str], ...], float], *names: str) -> Counter[tuple[str, ...]]:
    """Samples keyed by the values of the labels `names` (other labels summed over)."""
    out: Counter[tuple[str, ...]] = Counter()
    for labels, value in samples.items():
        d = dict(labels)
        out[tuple(d[n] for n in names)] += int(value)
    return out


def trace_counts(run_dir: Path) -> dict[str, Counter[tuple[str, ...]]]:
    """What the metrics must say, counted straight from messages.jsonl with the json module."""
    sent: Counter[tuple[str, ...]] = Counter()
    received: Counter[tuple[str, ...]] = Counter()
    dropped: Counter[tuple[str, ...]] = Counter()
    replies: Counter[tuple[str, ...]] = Counter()
    messages: dict[int, tuple[str, str, str]] = {}
    asked: dict[tuple[str, Any], tuple[str, str]] = {}
    for line in (run_dir / "messages.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec["ev"] == "send":
            src, dest, body = rec["src"], rec["dest"], rec["body"]
            messages[rec["id"]] = (src, dest, body["type"])
            if CLIENT.fullmatch(src):
                asked.setdefault((src, body.get("msg_id")), (dest, body["type"]))
            else:
                sent[(src, body["type"])] += 1
                if CLIENT.fullmatch(dest) and (dest, body.get("in_reply_to")) in asked:
                    replies[asked.pop((dest, body["in_reply_to"]))] += 1
        elif rec["ev"] == "recv" and rec["id"] in messages:  # net mode: a receipt may come before its send
            _, dest, name = messages[rec["id"]]
            if not CLIENT.fullmatch(dest):
                received[(dest, name)] += 1
        elif rec["ev"] == "drop":
            dropped[(messages.get(rec["id"], ("", "unknown"))[1], rec["why"])] += 1
    return {"sent": sent, "received": received, "dropped": dropped, "replies": replies}


def assert_matches_trace(text: str, run_dir: Path, lost: int = 0) -> dict[str, Any]:
    got = families(text)
    want = trace_counts(run_dir)
    assert by(got.get("distlab_messages_sent_total", {}), "node", "type") == want["sent"]
    assert by(got.get("distlab_messages_received_total", {}), "node", "type") == want["received"]
    drops = by(got.get("distlab_messages_dropped_total", {}), "node", "reason")
    assert sum(n for (_, why), n in drops.items() if why == "loss") == lost
    assert +Counter({k: n for k, n in drops.items() if k[1] != "loss"}) == want["dropped"]
    assert by(got.get("distlab_client_request_duration_seconds_count", {}), "node", "type") == want["replies"]
    return got


def test_a_process_run_is_scraped_while_it_runs_and_its_counts_match_the_trace(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "distlab", "test", "-w", "echo", "--bin", str(example_path("echo")),
         "--mode", "process", "--node-count", "3", "--time-limit", "4", "--rate", "20", "--seed", "3",
         "--store", str(tmp_path), "-q", "--no-report", "--metrics-addr", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    scrapes: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
                    assert reply.headers["Content-Type"].startswith("text/plain")
                    scrapes.append(reply.read().decode())
            except OSError:
                pass  # not bound yet, or the run just ended
            time.sleep(0.3)
        out, errs = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out + errs
    live = [families(text) for text in scrapes]
    # scraped while nodes answered requests, and counters only grow
    echoes = [sum(f.get("distlab_messages_received_total", {}).get((("node", n), ("type", "echo")), 0)
                  for n in ("n0", "n1", "n2")) for f in live]
    assert any(e > 0 for e in echoes), scrapes[-1:]
    assert echoes == sorted(echoes)
    assert len(live) >= 3
    run_dir = next(tmp_path.glob("echo/*/"))
    final = assert_matches_trace((run_dir / "metrics.prom").read_text(), run_dir)
    ok = sum(1 for line in (run_dir / "history.jsonl").read_text().splitlines()
             if json.loads(line)["type"] == "ok")
    assert by(final["distlab_client_request_duration_seconds_count"], "type")[("echo",)] == ok
    with socket.socket() as s:  # the server is gone with the run (scrapes leave TIME_WAIT behind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))


def test_loss_and_partitions_show_as_drops_in_a_simulated_runs_metrics_prom(tmp_path: Path) -> None:
    opts = TestOptions(workload="broadcast", bin=str(example_path("broadcast")), node_count=3, time_limit=6,
                       rate=20, loss=0.2, nemesis=["partition", "kill"], nemesis_interval=1.0, seed=5,
                       store=str(tmp_path))
    result = run_test(opts)
    lost = result.results["net"]["lost"]
    assert lost > 0
    got = assert_matches_trace((result.run_dir / "metrics.prom").read_text(), result.run_dir, lost=lost)
    reasons = by(got["distlab_messages_dropped_total"], "reason")
    assert reasons[("loss",)] == lost and reasons[("partition",)] > 0
    assert reasons[("partition",)] + reasons[("down",)] == result.results["net"]["dropped"]


def test_a_process_run_with_loss_shows_loss_drops(tmp_path: Path) -> None:
    opts = TestOptions(workload="broadcast", bin=str(example_path("broadcast")), node_count=3, time_limit=3,
                       rate=10, loss=0.3, mode="process", seed=2, store=str(tmp_path))
    result = run_test(opts)
    lost = result.results["net"]["lost"]
    assert lost > 0
    assert_matches_trace((result.run_dir / "metrics.prom").read_text(), result.run_dir, lost=lost)


def test_a_simulated_run_without_a_trace_still_writes_metrics_prom(tmp_path: Path) -> None:
    opts = TestOptions(workload="echo", bin=str(example_path("echo")), node_count=2, time_limit=2, rate=10,
                       seed=1, no_trace=True, store=str(tmp_path))
    result = run_test(opts)
    text = (result.run_dir / "metrics.prom").read_text()
    assert "# TYPE distlab_messages_sent_total counter" in text  # no trace to count: the series are empty
    assert not (result.run_dir / "messages.jsonl").exists()


def test_node_errors_are_counted_by_node_and_kind(tmp_path: Path) -> None:
    node = tmp_path / "raising.py"
    node.write_text("from distlab import Node\nnode = Node()\n\n@node.on('echo')\n"
                    "def echo(msg):\n    raise ValueError('no')\n\nnode.run()\n")
    opts = TestOptions(workload="echo", bin=str(node), node_count=2, time_limit=2, rate=10, seed=1,
                       store=str(tmp_path / "store"))
    result = run_test(opts)
    got = families((result.run_dir / "metrics.prom").read_text())
    errors = by(got["distlab_node_errors_total"], "kind")
    assert errors[("handler",)] > 0


def test_forwarded_requests_and_late_replies_are_counted_as_the_trace_says() -> None:
    """A node forwarding a client's request (src stays the client) sends nothing of its own,
    and the latency runs from the client's first send to the reply."""
    class Cluster:
        clients = {"c1"}

    m = RunMetrics()
    m.bind(Cluster())
    for line in [
        '{"t":0,"ev":"send","id":1,"src":"c1","dest":"n1","body":{"type":"read","msg_id":7}}',
        '{"t":0,"ev":"recv","id":1}',
        '{"t":1000000,"ev":"send","id":2,"src":"c1","dest":"n2","body":{"type":"read","msg_id":7}}',
        '{"t":2000000,"ev":"drop","id":2,"why":"partition"}',
        '{"t":3000000,"ev":"send","id":3,"src":"n1","dest":"c1","body":{"type":"read_ok","in_reply_to":7}}\n'
        '{"t":3000000,"ev":"recv","id":3}',
    ]:
        m.feed(line.encode() + b"\n")
    got = families(m.exposition().decode())
    assert by(got["distlab_messages_sent_total"], "node", "type") == Counter({("n1", "read_ok"): 1})
    assert by(got["distlab_messages_received_total"], "node", "type") == Counter({("n1", "read"): 1})
    assert by(got["distlab_messages_dropped_total"], "node", "reason") == Counter({("n2", "partition"): 1})
    assert got["distlab_client_request_duration_seconds_sum"] == {(("node", "n1"), ("type", "read")): 0.003}
    assert got["distlab_client_request_duration_seconds_bucket"][(("le", "0.0025"), ("node", "n1"),
                                                                  ("type", "read"))] == 0
    assert got["distlab_client_request_duration_seconds_bucket"][(("le", "0.005"), ("node", "n1"),
                                                                  ("type", "read"))] == 1


@pytest.mark.parametrize(("addr", "why"), [
    ("nonsense", "use HOST:PORT"), ("127.0.0.1:", "use HOST:PORT"), (":9100", "use HOST:PORT"),
    ("127.0.0.1:70000", "above 65535"), ("127.0.0.1:x", "use HOST:PORT"),
])
def test_a_bad_metrics_addr_is_refused(addr: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_addr(addr)


def test_good_metrics_addrs_parse() -> None:
    assert parse_addr("127.0.0.1:9100") == ("127.0.0.1", 9100)
    assert parse_addr("[::1]:0") == ("::1", 0)
    assert parse_addr("localhost:80") == ("localhost", 80)


def test_metrics_addr_is_refused_for_the_simulator() -> None:
    opts = TestOptions(workload="echo", bin=str(example_path("echo")), metrics_addr="127.0.0.1:9100")
    with pytest.raises(RunError, match="process and net runs"):
        opts.validate()


@pytest.mark.parametrize("case", ["bad", "busy"])
def test_the_cli_says_one_line_and_exits_2(tmp_path: Path, case: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        addr = "127.0.0.1:nope" if case == "bad" else f"127.0.0.1:{busy.getsockname()[1]}"
        proc = subprocess.run(
            [sys.executable, "-m", "distlab", "test", "-w", "echo", "--bin", str(example_path("echo")),
             "--mode", "process", "--time-limit", "1", "-q", "--store", str(tmp_path), "--metrics-addr", addr],
            capture_output=True, text=True, timeout=120,
        )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--metrics-addr" in lines[0], proc.stderr
    assert ("use HOST:PORT" if case == "bad" else "in use") in lines[0]
    assert not list(tmp_path.iterdir())  # no run directory for a run that never started


@needs_net
def test_a_net_run_is_scraped_and_kernel_loss_shows_in_its_metrics(tmp_path: Path) -> None:
    """--mode net: the kernel drops packets (nftables), TCP resends them; both are counted."""
    port = free_port()
    scrapes: list[str] = []
    done = threading.Event()

    def scrape() -> None:
        while not done.is_set():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
                    scrapes.append(reply.read().decode())
            except OSError:
                pass
            done.wait(0.3)

    scraper = threading.Thread(target=scrape, daemon=True)
    scraper.start()
    opts = TestOptions(workload="broadcast", bin=str(example_path("broadcast")), node_count=3, time_limit=4,
                       rate=10, loss=0.2, mode="net", seed=1, metrics_addr=f"127.0.0.1:{port}",
                       store=str(tmp_path))
    try:
        result = run_test(opts)  # in this thread: the net runtime installs signal handlers
    finally:
        done.set()
        scraper.join(10)
    assert any("distlab_messages_sent_total{" in text for text in scrapes)
    got = assert_matches_trace((result.run_dir / "metrics.prom").read_text(), result.run_dir,
                               lost=result.results["net"]["lost"])
    kernel_stats = result.results["net"]["kernel"]
    packets = by(got["distlab_kernel_packets_dropped_total"], "node", "reason")
    assert {node: packets[(node, "loss")] for node in kernel_stats} == {
        node: s["packets_dropped_loss"] for node, s in kernel_stats.items()}
    assert sum(packets[(node, "loss")] for node in kernel_stats) > 0
    retransmits = by(got["distlab_kernel_tcp_retransmits_total"], "node")
    assert sum(retransmits.values()) == sum(s["tcp_retransmits"] for s in kernel_stats.values())
