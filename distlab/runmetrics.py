"""Prometheus metrics of a test run: per node, messages by type, drops by reason, client latency.

A run's message trace already says everything these count, so the counting reads the
trace's lines rather than adding work to the wire: in process and net modes a tee on the
trace counts each line as it is written (real processes send a few thousand messages a
second, so parsing each line is cheap there) and ``--metrics-addr HOST:PORT`` serves the
counts on ``/metrics`` while the run goes on; in the simulator, where the wire is the hot
path, the same counting runs once over ``messages.jsonl`` after the run (the loop pays
nothing; the pass costs about 1 us per trace line, measured: 8-9% of a typical simulated
run's CPU, 31% of benchmarks/sim_speed.py's 1000 ops/s run; a ``--no-trace`` run skips it
and its metrics.prom has no per-type series). Either way the run directory gets
``metrics.prom`` (the text exposition) at the end.

=================================================  ==========================================
distlab_messages_sent_total{node,type}             messages a node or service sent, by the
                                                   ``src`` the trace records (clients' are not
                                                   counted: clients are not nodes)
distlab_messages_received_total{node,type}         messages that reached a node or service,
                                                   client requests included
distlab_messages_dropped_total{node,reason}        messages meant for ``node`` that never
                                                   reached it: ``partition``, ``down`` (it was
                                                   dead or had stopped reading), ``loss``
                                                   (--loss), and in net mode what its peer's
                                                   proxy reported (``unreachable``, ...)
distlab_client_request_duration_seconds{node,type} histogram: from a client's request to
                                                   ``node`` to its reply (loop time: real
                                                   seconds in process/net, simulated in sim)
distlab_node_errors_total{node,kind}               handler exceptions, protocol errors and
                                                   error replies (13, 10), as the summary's
                                                   node errors count them
distlab_kernel_packets_dropped_total{node,reason}  net mode, in metrics.prom only: packets
distlab_kernel_tcp_retransmits_total{node}         nftables dropped, TCP segments resent
=================================================  ==========================================

Each run has its own CollectorRegistry (never prometheus_client's global one), so runs in
one process, as tests make them, do not share series.
"""

from __future__ import annotations

import bisect
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import orjson
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

__all__ = ["MetricsServer", "MetricsTrace", "RunMetrics", "parse_addr"]

LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
MAX_TYPES = 100
"""Distinct message types kept as labels; a node inventing more gets them counted as ``other``."""


def parse_addr(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9100`` for IPv6) as (host, port); ValueError says what is wrong in one line."""
    host, sep, port_text = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    usage = f"--metrics-addr {text!r}: use HOST:PORT, e.g. 127.0.0.1:9100"
    if not sep or not host or not port_text.isdigit():
        raise ValueError(usage)
    port = int(port_text)
    if port > 65535:
        raise ValueError(f"--metrics-addr {text!r}: port {port} is above 65535")
    return host, port


class RunMetrics:
    """The counts of one run, fed trace lines; a prometheus_client collector over them.

    The counts are plain dicts updated on the harness's thread; a scrape (on the HTTP
    server's thread) copies them first, which the GIL makes atomic for dicts and lists.
    """

    def __init__(self) -> None:
        self.sent: dict[tuple[str, str], int] = {}
        self.received: dict[tuple[str, str], int] = {}
        self.dropped: dict[tuple[str, str], int] = {}
        self.latency: dict[tuple[str, str], list[float]] = {}  # per bucket (and +Inf), then sum, count
        self.cluster: Any = None  # its clients, per-node losses, node errors and kernel counters
        self._messages: dict[int, tuple[str, str]] = {}  # trace id -> (dest, type)
        self._pending: dict[tuple[str, Any], tuple[float, str, str]] = {}  # (client, msg_id) -> (t, node, type)
        self._types: set[str] = set()
        self.registry = CollectorRegistry()
        self.registry.register(self)  # type: ignore[arg-type]

    def bind(self, cluster: Any) -> None:
        """The cluster whose trace this reads (its `clients` tell clients from nodes)."""
        self.cluster = cluster

    # ----- counting ----------------------------------------------------------------------
    def _type(self, body: Any) -> str:
        name = body.get("type") if isinstance(body, dict) else None
        if not isinstance(name, str):
            return "unknown"
        if name not in self._types:
            if len(self._types) >= MAX_TYPES:
                return "other"
            self._types.add(name)
        return name

    def feed(self, data: bytes) -> None:
        """One write to the trace: one line, or a send line and its recv line."""
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                if start < len(data):
                    self.line(data[start:])
                return
            if end > start:
                self.line(data[start:end])
            start = end + 1

    def line(self, line: bytes) -> None:
        """One trace line (see distlab.runtime.wire for their shape)."""
        at = line.find(b',"ev":"recv","id":')
        if at > 0:  # half of all lines, and fixed in shape: read without a JSON parse
            try:
                mid = int(line[at + 18:line.rindex(b"}")])
            except ValueError:
                return
            found = self._messages.get(mid)
            if found is not None and found[0] not in (self.cluster.clients if self.cluster is not None else ()):
                self.received[found] = self.received.get(found, 0) + 1
            return
        try:
            rec = orjson.loads(line)
            ev, mid = rec["ev"], rec["id"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return
        clients = self.cluster.clients if self.cluster is not None else ()
        if ev == "send":
            src, dest, body = rec.get("src"), rec.get("dest"), rec.get("body")
            name = self._type(body)
            self._messages[mid] = (dest, name)
            if src in clients:
                key = (src, body.get("msg_id") if isinstance(body, dict) else None)
                if key not in self._pending:  # a node forwarding it as the client keeps the first time
                    self._pending[key] = (rec["t"] / 1e9, dest, name)
                return
            key2 = (src, name)
            self.sent[key2] = self.sent.get(key2, 0) + 1
            if dest in clients and isinstance(body, dict):
                asked = self._pending.pop((dest, body.get("in_reply_to")), None)
                if asked is not None:
                    self._observe((asked[1], asked[2]), rec["t"] / 1e9 - asked[0])
        elif ev == "drop":
            found = self._messages.get(mid)
            key3 = (found[0] if found is not None else "unknown", str(rec.get("why", "unknown")))
            self.dropped[key3] = self.dropped.get(key3, 0) + 1

    def _observe(self, key: tuple[str, str], seconds: float) -> None:
        series = self.latency.get(key)
        if series is None:
            series = self.latency[key] = [0.0] * (len(LATENCY_BUCKETS) + 3)
        series[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        series[-2] += seconds
        series[-1] += 1

    def read_trace(self, path: Path) -> None:
        """Count a finished run's messages.jsonl (the simulator's way: nothing during the run)."""
        with open(path, "rb") as f:
            for line in f:
                self.line(line)

    # ----- what a scrape sees --------------------------------------------------------------
    def describe(self) -> list[Metric]:
        return []  # no fixed series: the registry must not call collect() at registration

    def collect(self) -> Iterator[Metric]:
        sent = CounterMetricFamily("distlab_messages_sent", "Messages sent, by node and message type.",
                                   labels=["node", "type"])
        for (node, name), n in sorted(dict(self.sent).items()):
            sent.add_metric([node, name], n)
        yield sent
        received = CounterMetricFamily("distlab_messages_received", "Messages received, by node and message type.",
                                       labels=["node", "type"])
        for (node, name), n in sorted(dict(self.received).items()):
            received.add_metric([node, name], n)
        yield received
        dropped = CounterMetricFamily("distlab_messages_dropped",
                                      "Messages meant for a node that never reached it, by reason.",
                                      labels=["node", "reason"])
        for (node, why), n in sorted(self._drops().items()):
            dropped.add_metric([node, why], n)
        yield dropped
        latency = HistogramMetricFamily("distlab_client_request_duration_seconds",
                                        "Client request to reply, by the node asked and the request type.",
                                        labels=["node", "type"])
        for (node, name), series in sorted(dict(self.latency).items()):
            snap = list(series)
            buckets, total = [], 0.0
            for le, n in zip([*LATENCY_BUCKETS, float("inf")], snap, strict=False):
                total += n
                buckets.append(("+Inf" if le == float("inf") else repr(le), total))
            latency.add_metric([node, name], buckets, sum_value=snap[-2])
        yield latency
        errors = CounterMetricFamily("distlab_node_errors", "Node errors, by node and kind.",
                                     labels=["node", "kind"])
        for (node, kind), n in sorted(self._node_errors().items()):
            errors.add_metric([node, kind], n)
        yield errors
        kernel = getattr(self.cluster, "kernel_stats", None)
        if kernel:  # net mode, read when the cluster closes
            packets = CounterMetricFamily("distlab_kernel_packets_dropped",
                                          "Packets nftables dropped, by node and reason.", labels=["node", "reason"])
            resent = CounterMetricFamily("distlab_kernel_tcp_retransmits", "TCP segments retransmitted.",
                                         labels=["node"])
            for node, stats in sorted(kernel.items()):
                packets.add_metric([node, "partition"], stats.get("packets_dropped_partition", 0))
                packets.add_metric([node, "loss"], stats.get("packets_dropped_loss", 0))
                resent.add_metric([node], stats.get("tcp_retransmits", 0))
            yield packets
            yield resent
            shaped = CounterMetricFamily("distlab_kernel_packets_shaped",
                                         "Packets the kernel delayed, sent at once (reordered) or duplicated, "
                                         "by node (NFQUEUE shaper and nftables dup).", labels=["node", "how"])
            for node, stats in sorted(kernel.items()):
                for key, how in (("packets_delayed", "delayed"), ("packets_reordered", "reordered"),
                                 ("packets_duplicated", "duplicated")):
                    if key in stats:
                        shaped.add_metric([node, how], stats[key])
            if shaped.samples:
                yield shaped

    def _drops(self) -> dict[tuple[str, str], int]:
        drops = dict(self.dropped)
        for node, n in dict(getattr(self.cluster, "lost_to", None) or {}).items():
            drops[(node, "loss")] = drops.get((node, "loss"), 0) + n
        return drops

    def _node_errors(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        events = getattr(self.cluster, "node_events", None)
        if events is None:
            return out
        for (node, kind, _name, _exc), tally in list(events.groups.items()):
            out[(node, kind)] = out.get((node, kind), 0) + tally.count
        for (node, _name, code), tally in list(events.replies.items()):
            kind = "crash-reply" if code == 13 else "not-supported-reply" if code == 10 else f"error-{code}-reply"
            out[(node, kind)] = out.get((node, kind), 0) + tally.count
        return out

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def write(self, path: Path) -> None:
        path.write_bytes(self.exposition())


class MetricsTrace:
    """The run's trace with a tee: every line written is counted too (process and net modes)."""

    def __init__(self, inner: IO[bytes] | Any, metrics: RunMetrics) -> None:
        self.inner = inner
        self.metrics = metrics

    def write(self, data: bytes) -> int:
        self.metrics.feed(data)
        return self.inner.write(data)

    def flush(self) -> None:
        self.inner.flush()

    def close(self) -> None:
        self.inner.close()


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.split("?", 1)[0] == "/metrics":
            body, code, ctype = self.server.metrics.exposition(), 200, CONTENT_TYPE_LATEST
        else:
            body, code, ctype = b"not found: try /metrics\n", 404, "text/plain; charset=utf-8"
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_GET  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return None  # scrapes are not the run's business


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    metrics: RunMetrics


class MetricsServer:
    """``/metrics`` on its own thread. Bound at once (so a busy port fails before any node
    starts); serving starts with `serve` and ends with `close`."""

    def __init__(self, addr: str) -> None:
        host, port = parse_addr(addr)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_cls = type("_MetricsHTTPServer", (_HTTPServer,), {"address_family": family})
        try:
            self.httpd: _HTTPServer = server_cls((host, port), _Handler)
        except OSError as exc:
            raise ValueError(f"--metrics-addr {addr}: {exc.strerror or exc}") from None
        self.address: tuple[str, int] = self.httpd.server_address[:2]  # type: ignore[assignment]
        self._thread: threading.Thread | None = None

    def serve(self, metrics: RunMetrics) -> None:
        self.httpd.metrics = metrics
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="distlab-metrics", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self.httpd.shutdown()
        self.httpd.server_close()
