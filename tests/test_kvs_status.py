"""kvs-server's status server, for real: a server process, fail points set over HTTP with
urllib, their effect seen through redis-cli, /metrics scraped over HTTP and read with
prometheus_client's own exposition parser."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from distlab.systems.kvs import KvStore
from distlab.systems.kvs.metrics import KvsMetrics
from distlab.systems.kvs.store import encode_record

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli not installed"),
]

LISTENING = re.compile(rb"listening on 127\.0\.0\.1:(\d+)")
STATUS = re.compile(rb"status server at 127\.0\.0\.1:(\d+)")
SERVER = [sys.executable, "-m", "distlab.systems.kvs.server"]


@dataclass
class Proc:
    proc: subprocess.Popen[bytes]
    log: Path
    port: int = 0
    status_port: int = 0

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.status_port}{path}"

    def http(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        data = None if body is None else body.encode()
        req = urllib.request.Request(self.url(path), data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["redis-cli", "-p", str(self.port), *args],
            capture_output=True, text=True, timeout=15, check=check,
        )  # fmt: skip

    def metrics(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        with urllib.request.urlopen(self.url("/metrics"), timeout=10) as resp:
            assert resp.headers["Content-Type"].startswith("text/plain")
            text = resp.read().decode()
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }


class Procs:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[Proc] = []

    def start(self, *extra: str, data: str = "data", env: dict[str, str] | None = None) -> Proc:
        log = self.tmp_path / f"server-{len(self.started)}.log"
        cmd = [*SERVER, "--addr", "127.0.0.1:0", "--status-addr", "127.0.0.1:0",
               "--dir", str(self.tmp_path / data), *extra]  # fmt: skip
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
            )
        p = Proc(proc, log)
        self.started.append(p)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            raw = log.read_bytes()
            m, st = LISTENING.search(raw), STATUS.search(raw)
            if m and st:
                p.port, p.status_port = int(m.group(1)), int(st.group(1))
                return p
            if proc.poll() is not None:
                pytest.fail(f"kvs-server exited {proc.returncode}:\n{p.text()}")
            time.sleep(0.02)
        pytest.fail(f"kvs-server did not start:\n{p.text()}")

    def kill_all(self) -> None:
        for p in self.started:
            if p.proc.poll() is None:
                p.proc.kill()
                p.proc.wait(10)


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    p = Procs(tmp_path)
    try:
        yield p
    finally:
        p.kill_all()


def delta(after: dict, before: dict, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after[key] - before.get(key, 0.0)


# --------------------------------------------------------------------------- /metrics


def test_metrics_move_by_what_redis_cli_did(procs: Procs) -> None:
    s = procs.start()
    before = s.metrics()
    assert s.cli("SET", "a", "1").stdout == "OK\n"
    assert s.cli("SET", "b", "22").stdout == "OK\n"
    assert s.cli("GET", "a").stdout == "1\n"
    assert s.cli("GET", "missing").stdout == "\n"
    assert s.cli("DEL", "a").stdout == "1\n"
    assert "unknown command" in s.cli("FROB", "x").stdout
    after = s.metrics()
    assert delta(after, before, "kvs_requests_total", command="set") == 2
    assert delta(after, before, "kvs_requests_total", command="get") == 2
    assert delta(after, before, "kvs_requests_total", command="del") == 1
    assert delta(after, before, "kvs_requests_total", command="other") == 1
    assert delta(after, before, "kvs_request_errors_total", command="other") == 1
    assert delta(after, before, "kvs_request_errors_total", command="set") == 0
    assert delta(after, before, "kvs_request_duration_seconds_count", command="set") == 2
    inf = delta(after, before, "kvs_request_duration_seconds_bucket", command="get", le="+Inf")
    assert inf == 2
    written = (
        len(encode_record(b"a", b"1"))
        + len(encode_record(b"b", b"22"))
        + len(encode_record(b"a", b"", 1))
    )
    assert delta(after, before, "kvs_bytes_written_total") == written
    # each write waited for its own fsync (one client at a time); the GETs did none
    assert delta(after, before, "kvs_fsyncs_total") == 3
    assert delta(after, before, "kvs_fsync_duration_seconds_count") == 3
    assert after[("kvs_keys", frozenset())] == 1
    assert after[("kvs_compactions_total", frozenset())] == 0


def test_thread_pool_server_is_counted_too(procs: Procs) -> None:
    s = procs.start("--pool", "shared-queue")
    before = s.metrics()
    s.cli("SET", "k", "v")
    s.cli("EXISTS", "k")
    after = s.metrics()
    assert delta(after, before, "kvs_requests_total", command="set") == 1
    assert delta(after, before, "kvs_requests_total", command="exists") == 1
    assert delta(after, before, "kvs_fsyncs_total") == 1


def test_compaction_metrics_in_process(tmp_path: Path) -> None:
    store = KvStore.open(tmp_path, auto_compact=False)
    metrics = KvsMetrics(store)

    def scrape() -> dict:
        text = metrics.exposition().decode()
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for f in text_string_to_metric_families(text)
            for s in f.samples
        }

    store.set(b"k", b"old")
    store.set(b"k", b"new")
    before = scrape()
    store.compact()
    after = scrape()
    assert delta(after, before, "kvs_compactions_total") == 1
    assert delta(after, before, "kvs_compacted_bytes_total") == len(encode_record(b"k", b"new"))
    assert delta(after, before, "kvs_fsyncs_total") == 1  # the compaction's freeze
    assert after[("kvs_disk_bytes", frozenset())] == len(encode_record(b"k", b"new"))
    store.close()


# --------------------------------------------------------------------------- /fail


def test_fail_point_api_put_get_delete(procs: Procs) -> None:
    s = procs.start()
    assert s.http("GET", "/fail") == (200, "")
    assert s.http("PUT", "/fail/kvs_after_fsync", "20%3*print(hi)->off")[0] == 200
    assert s.http("PUT", "/fail/kvs_compact_before_copy", "return(x)")[0] == 200
    assert s.http("GET", "/fail") == (
        200,
        "kvs_after_fsync=20%3*print(hi)->off\nkvs_compact_before_copy=return(x)\n",
    )
    assert s.http("GET", "/fail/kvs_compact_before_copy") == (
        200,
        "kvs_compact_before_copy=return(x)\n",
    )
    code, body = s.http("PUT", "/fail/kvs_after_fsync", "explode")
    assert code == 400 and "unknown task 'explode'" in body and body.count("\n") == 1
    assert s.http("GET", "/fail/kvs_after_fsync")[1] == "kvs_after_fsync=20%3*print(hi)->off\n"
    assert s.http("DELETE", "/fail/kvs_after_fsync")[0] == 200
    assert s.http("DELETE", "/fail/never_set")[0] == 200
    assert s.http("GET", "/fail/kvs_after_fsync")[0] == 404
    assert s.http("GET", "/fail") == (200, "kvs_compact_before_copy=return(x)\n")
    assert s.http("GET", "/nope")[0] == 404


def test_failed_fsync_over_http_is_seen_by_redis_cli(procs: Procs) -> None:
    s = procs.start("--pool", "naive")  # each SET fsyncs in its own call: the error is its reply
    assert s.cli("SET", "a", "1").stdout == "OK\n"
    assert s.http("PUT", "/fail/kvs_before_fsync", "1*return(disk on fire)")[0] == 200
    assert "disk on fire" in s.cli("SET", "b", "2").stdout
    # fenced: after a failed fsync the store acknowledges no more writes until reopened
    assert "refuses writes after a failed sync" in s.cli("SET", "c", "3").stdout
    assert s.cli("GET", "a").stdout == "1\n"


def test_failed_fsync_closes_the_asyncio_connection_without_an_ack(procs: Procs) -> None:
    s = procs.start()
    assert s.http("PUT", "/fail/kvs_before_fsync", "return")[0] == 200
    res = s.cli("SET", "b", "2", check=False)
    assert "OK" not in res.stdout
    assert "fsync failed" in s.text()


def test_pause_over_http_holds_the_write_until_deleted(procs: Procs) -> None:
    s = procs.start("--fsync-thread")  # the fsync in a helper thread: the loop goes on
    assert s.http("PUT", "/fail/kvs_before_fsync", "pause")[0] == 200
    writer = subprocess.Popen(
        ["redis-cli", "-p", str(s.port), "SET", "k", "v"], stdout=subprocess.PIPE, text=True
    )
    time.sleep(0.5)
    assert writer.poll() is None  # no acknowledgement while the disk "hangs"
    assert s.cli("PING").stdout == "PONG\n"  # the event loop still serves
    assert s.http("DELETE", "/fail/kvs_before_fsync")[0] == 200
    out, _ = writer.communicate(timeout=10)
    assert out == "OK\n"


def test_pause_over_http_stalls_every_client_with_the_fsync_on_the_loop(procs: Procs) -> None:
    s = procs.start()  # the default: the fsync on the event loop, as Redis's
    assert s.http("PUT", "/fail/kvs_before_fsync", "pause")[0] == 200
    writer = subprocess.Popen(
        ["redis-cli", "-p", str(s.port), "SET", "k", "v"], stdout=subprocess.PIPE, text=True
    )
    time.sleep(0.5)
    pinger = subprocess.Popen(
        ["redis-cli", "-p", str(s.port), "PING"], stdout=subprocess.PIPE, text=True
    )
    time.sleep(0.5)
    assert writer.poll() is None and pinger.poll() is None  # the loop waits for the disk
    assert s.http("DELETE", "/fail/kvs_before_fsync")[0] == 200  # the status server goes on
    assert writer.communicate(timeout=10)[0] == "OK\n"
    assert pinger.communicate(timeout=10)[0] == "PONG\n"


def test_panic_over_http_kills_the_server_and_a_restart_recovers(procs: Procs) -> None:
    s = procs.start()
    assert s.cli("SET", "a", "1").stdout == "OK\n"
    assert s.http("PUT", "/fail/kvs_before_fsync", "panic(power cut)")[0] == 200
    res = s.cli("SET", "b", "2", check=False)
    assert "OK" not in res.stdout
    assert s.proc.wait(10) == 101
    assert "fail point kvs_before_fsync panicked: power cut" in s.text()
    s2 = procs.start()  # same data directory
    assert s2.http("GET", "/fail") == (200, "")  # fail points live in the process only
    assert s2.cli("GET", "a").stdout == "1\n"
    # the process died before the fsync, but the kernel had the write: it is all there
    assert s2.cli("GET", "b").stdout == "2\n"


def test_failpoints_env_var_at_start(procs: Procs) -> None:
    s = procs.start(
        "--pool", "naive", env={"FAILPOINTS": "kvs_before_fsync=1*return(from env)->off"}
    )
    assert s.http("GET", "/fail") == (200, "kvs_before_fsync=1*return(from env)->off\n")
    assert "from env" in s.cli("SET", "a", "1").stdout


# --------------------------------------------------------------------------- bad input


def run_server(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*SERVER, "--addr", "127.0.0.1:0", *args],
        capture_output=True, text=True, timeout=15, env={**os.environ, **(env or {})},
    )  # fmt: skip


@pytest.mark.parametrize(
    "args, env, words",
    [
        (("--status-addr", "nope"), {}, "--status-addr: expected HOST:PORT, got 'nope'"),
        (("--status-addr", "127.0.0.1:99999"), {}, "--status-addr"),
        ((), {"FAILPOINTS": "kvs_before_fsync=explode"}, "FAILPOINTS: fail point"),
        ((), {"FAILPOINTS": "kvs_before_fsync"}, "FAILPOINTS: expected NAME=ACTIONS"),
    ],
)
def test_bad_status_addr_or_failpoints_is_one_line_exit_2(tmp_path, args, env, words) -> None:
    res = run_server("--dir", str(tmp_path / "d"), *args, env=env)
    assert res.returncode == 2, res.stderr
    err = res.stderr.strip()
    assert "\n" not in err and err.startswith("kvs-server: error: ") and words in err, err
    assert not (tmp_path / "d").exists()  # nothing ran


def test_busy_status_port_is_one_line_exit_1(procs: Procs, tmp_path: Path) -> None:
    s = procs.start()
    res = run_server(
        "--dir", str(tmp_path / "other"), "--status-addr", f"127.0.0.1:{s.status_port}"
    )
    assert res.returncode == 1
    err = res.stderr.strip()
    assert "\n" not in err and "cannot listen on" in err and "--status-addr" in err, err
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(15) == 0
