"""kvs-server and kvs-client, for real: subprocess servers, redis-cli, redis-py, raw sockets.

Every server is started on ``127.0.0.1:0`` (the OS picks a free port, the server logs it),
every socket has a timeout, and the ``servers`` fixture kills whatever is still running.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from distlab import __version__
from distlab.systems.kvs.cli import POOLS
from distlab.systems.kvs.engines import open_engine
from distlab.systems.kvs.pools import (
    FuturesThreadPool,
    NaiveThreadPool,
    SharedQueueThreadPool,
    ThreadedServer,
)
from distlab.systems.kvs.resp import encode_command

pytestmark = pytest.mark.timeout(60)

REDIS_CLI = shutil.which("redis-cli")
needs_redis_cli = pytest.mark.skipif(
    REDIS_CLI is None, reason="redis-cli not installed (apt-get install redis-tools)"
)
REDIS_BENCHMARK = shutil.which("redis-benchmark")
LISTENING = re.compile(rb"listening on 127\.0\.0\.1:(\d+)")


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    data_dir: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def client(self, **kw: object) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=10, socket_connect_timeout=5, **kw)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def alive(self) -> bool:
        """The process runs and answers PING on a fresh connection."""
        if self.proc.poll() is not None:
            return False
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"PING\r\n")
            return recv_exactly(s, 7) == b"+PONG\r\n"


class Servers:
    """Starts kvs-server processes and guarantees none outlives the test."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[Server] = []

    def start(
        self,
        engine: str = "kvs",
        pool: str = "asyncio",
        data_dir: Path | None = None,
        extra: tuple[str, ...] = (),
    ) -> Server:
        if pool.startswith("asyncio-"):  # asyncio-inloop / asyncio-offload
            extra = (*extra, "--offload", "off" if pool == "asyncio-inloop" else "on")
            pool = "asyncio"
        data_dir = data_dir or self.tmp_path / f"data-{engine}"
        log = self.tmp_path / f"server-{len(self.started)}.log"
        cmd = [
            sys.executable, "-m", "distlab.systems.kvs.server", "--addr", "127.0.0.1:0",
            "--engine", engine, "--dir", str(data_dir), "--pool", pool, *extra,
        ]  # fmt: skip
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        server = Server(proc, 0, log, data_dir)
        self.started.append(server)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            m = LISTENING.search(log.read_bytes())
            if m:
                server.port = int(m.group(1))
                return server
            if proc.poll() is not None:
                pytest.fail(f"kvs-server exited {proc.returncode}:\n{server.log_text()}")
            time.sleep(0.02)
        pytest.fail(f"kvs-server did not start in 15 s:\n{server.log_text()}")

    def kill_all(self) -> None:
        for s in self.started:
            if s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait(10)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    s = Servers(tmp_path)
    try:
        yield s
    finally:
        s.kill_all()


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def recv_until_closed(sock: socket.socket, limit: float = 10.0) -> bytes:
    """Everything the server sends until it closes; fails the test if it never does."""
    sock.settimeout(limit)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def raw(server: Server) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return s


def cli(server: Server, *args: str) -> str:
    assert REDIS_CLI is not None
    res = subprocess.run(
        [REDIS_CLI, "-p", str(server.port), *args], capture_output=True, timeout=15, check=True
    )
    return res.stdout.decode()


# --------------------------------------------------------------------------- start-up


def test_start_logs_version_engine_and_address(servers: Servers) -> None:
    s = servers.start(engine="sqlite")
    text = s.log_text()
    assert f"kvs-server {__version__}" in text
    assert "engine=sqlite" in text
    assert "pool=asyncio " in text
    assert f"listening on 127.0.0.1:{s.port}" in text
    assert s.stop() == 0
    assert "engine closed" in s.log_text()


def test_engine_mismatch_and_busy_port_are_one_line_errors(
    servers: Servers, tmp_path: Path
) -> None:
    s = servers.start(engine="kvs")
    base = [sys.executable, "-m", "distlab.systems.kvs.server"]
    res = subprocess.run(
        [*base, "--addr", "127.0.0.1:0", "--engine", "sqlite", "--dir", str(s.data_dir)],
        capture_output=True, timeout=15,
    )  # fmt: skip
    assert res.returncode == 1
    err = res.stderr.decode().strip()
    assert "\n" not in err and "written by engine 'kvs'" in err, err
    res = subprocess.run(
        [*base, "--addr", f"127.0.0.1:{s.port}", "--dir", str(tmp_path / "third")],
        capture_output=True, timeout=15,
    )  # fmt: skip
    assert res.returncode == 1
    err = res.stderr.decode().strip()
    assert "\n" not in err and "cannot listen on" in err, err


# --------------------------------------------------------------------------- real clients


@needs_redis_cli
@pytest.mark.parametrize("engine", ["kvs", "sqlite", "lmdb", "rocksdb"])
def test_redis_cli_commands(servers: Servers, engine: str) -> None:
    s = servers.start(engine=engine)
    assert cli(s, "PING") == "PONG\n"
    assert cli(s, "PING", "hi") == "hi\n"
    assert cli(s, "SET", "greeting", "hello world") == "OK\n"
    assert cli(s, "GET", "greeting") == "hello world\n"
    assert cli(s, "GET", "missing") == "\n"  # nil
    assert cli(s, "EXISTS", "greeting", "missing", "greeting") == "2\n"
    assert cli(s, "SET", "b", "2") == "OK\n"
    assert cli(s, "DEL", "greeting", "b", "missing") == "2\n"
    assert cli(s, "EXISTS", "greeting") == "0\n"
    assert "ERR unknown command 'FLUSHALL'" in cli(s, "FLUSHALL")
    assert "not supported" in cli(s, "SET", "k", "v", "EX", "10")
    assert "wrong number of arguments for 'get'" in cli(s, "GET")
    assert cli(s, "GET", "k") == "\n"  # the rejected SET ... EX did not write


@needs_redis_cli
def test_redis_cli_pipe_mode_pipelines_many_commands(servers: Servers) -> None:
    s = servers.start()
    payload = "".join(f"SET key{i} value{i}\r\n" for i in range(2000)).encode()
    assert REDIS_CLI is not None
    res = subprocess.run(
        [REDIS_CLI, "-p", str(s.port), "--pipe"], input=payload, capture_output=True, timeout=30
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert b"errors: 0, replies: 2000" in res.stdout
    assert cli(s, "GET", "key1999") == "value1999\n"


@pytest.mark.parametrize(("engine", "protocol"), [("kvs", 3), ("sqlite", 2)])
def test_redis_py_commands_and_binary_values(servers: Servers, engine: str, protocol: int) -> None:
    """redis-py 8 opens with HELLO 3 (RESP3); protocol=2 is the classic handshake."""
    s = servers.start(engine=engine)
    r = s.client(protocol=protocol)
    assert r.ping() is True
    odd = b"\x00\r\n*1\r\n$3\r\n\xff" * 10
    big = os.urandom(1 << 20)
    assert r.set(b"odd\r\nkey", odd) is True
    assert r.set("big", big) is True
    assert r.get(b"odd\r\nkey") == odd
    assert r.get("big") == big
    assert r.get("nope") is None
    assert r.exists("big", "nope", b"odd\r\nkey") == 2
    assert r.delete("big", "nope") == 1
    assert r.delete("big") == 0
    with pytest.raises(redis.ResponseError, match="unknown command"):
        r.execute_command("INCR", "x")
    assert r.ping() is True  # the connection survived the error
    r.close()


@pytest.mark.parametrize("pool", ["asyncio-inloop", "asyncio-offload"])
def test_redis_py_pipeline(servers: Servers, pool: str) -> None:
    """500 SET+GET pairs: more than one offload batch, still answered in order."""
    s = servers.start(pool=pool, extra=("--fsync", "never"))
    r = s.client()
    pipe = r.pipeline(transaction=False)
    for i in range(500):
        pipe.set(f"k{i}", f"v{i}")
        pipe.get(f"k{i}")
    pipe.delete("k0", "k1", "missing")
    pipe.exists("k0", "k2")
    results = pipe.execute()
    assert results[:1000] == [x for i in range(500) for x in (True, f"v{i}".encode())]
    assert results[1000:] == [2, 1]
    r.close()


@pytest.mark.parametrize("pool", ["asyncio-inloop", "asyncio-offload", "shared-queue"])
def test_raw_pipeline_in_one_write_answered_in_order(servers: Servers, pool: str) -> None:
    s = servers.start(pool=pool)
    request = (
        encode_command("SET", "a", "1")
        + encode_command("GET", "a")
        + b"PING\r\n"
        + encode_command("NOPE", "x")
        + encode_command("DEL", "a", "b")
        + encode_command("GET", "a")
        + encode_command("EXISTS", "a")
        + encode_command("PING", "echo")
    )
    expected = (
        b"+OK\r\n$1\r\n1\r\n+PONG\r\n-ERR unknown command 'NOPE'\r\n:1\r\n$-1\r\n:0\r\n"
        b"$4\r\necho\r\n"
    )
    with raw(s) as sock:
        sock.sendall(request)
        assert recv_exactly(sock, len(expected)) == expected


def test_redis_benchmark_runs_without_warnings(servers: Servers) -> None:
    if REDIS_BENCHMARK is None:
        pytest.skip("redis-benchmark not installed (apt-get install redis-tools)")
    s = servers.start(extra=("--fsync", "never"))
    res = subprocess.run(
        [REDIS_BENCHMARK, "-p", str(s.port), "-t", "set,get", "-n", "2000", "-c", "4", "-q"],
        capture_output=True, timeout=30,
    )  # fmt: skip
    out = (res.stdout + res.stderr).decode(errors="replace")
    assert res.returncode == 0, out
    assert "WARNING" not in out, out
    assert re.search(r"SET: [\d.]+ requests per second", out), out
    assert re.search(r"GET: [\d.]+ requests per second", out), out


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "pool", ["asyncio-inloop", "asyncio-offload", "shared-queue", "naive", "futures"]
)
@pytest.mark.parametrize(
    ("garbage", "error"),
    [
        (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1\r\n:5\r\n", b"-ERR Protocol error: expected '$', got ':'\r\n"),
        (b"*2\r\n$3\r\nGET\r\n$99999999999\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b'SET k "unbalanced\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    ],
    ids=["multibulk", "not-bulk", "oversized-bulk", "quotes"],
)
def test_malformed_protocol_gets_error_then_close(
    servers: Servers, pool: str, garbage: bytes, error: bytes
) -> None:
    s = servers.start(pool=pool)
    r = s.client()
    r.set("keep", "me")
    with raw(s) as sock:
        sock.sendall(encode_command("PING") + garbage + encode_command("SET", "keep", "lost"))
        sock.shutdown(socket.SHUT_WR)  # like `printf ... | nc`; the server closes at once
        assert recv_until_closed(sock) == b"+PONG\r\n" + error
    assert s.alive()
    assert r.get("keep") == b"me"  # nothing after the garbage was executed
    r.close()


def test_oversized_bulk_with_body_closes_and_writes_nothing(servers: Servers) -> None:
    s = servers.start(extra=("--max-bulk-len", "1024"))
    r = s.client()
    assert r.set("ok", b"x" * 1024) is True
    with raw(s) as sock:
        sock.sendall(encode_command("SET", "big", b"y" * 4096))
        assert recv_until_closed(sock) == b"-ERR Protocol error: invalid bulk length\r\n"
    assert r.get("big") is None and r.get("ok") == b"x" * 1024
    r.close()


def test_oversized_inline_request_closes(servers: Servers) -> None:
    s = servers.start()
    with raw(s) as sock:
        sock.sendall(b"A" * (70 * 1024))
        assert recv_until_closed(sock) == b"-ERR Protocol error: too big inline request\r\n"
    assert s.alive()


def test_random_garbage_never_kills_the_server(servers: Servers) -> None:
    s = servers.start()
    r = s.client()
    r.set("stable", "value")
    rnd = random.Random(5)
    for i in range(30):
        blob = rnd.randbytes(rnd.randint(1, 5000))
        if i % 2:
            blob = b"*" + blob  # force the array path, not just inline words
        with raw(s) as sock:
            sock.sendall(blob)
            sock.shutdown(socket.SHUT_WR)
            recv_until_closed(sock)  # replies or an error; either way the server closes
    assert s.alive()
    assert r.get("stable") == b"value"
    r.close()


@pytest.mark.parametrize("pool", ["asyncio", "futures"])
def test_unknown_command_keeps_connection(servers: Servers, pool: str) -> None:
    s = servers.start(pool=pool)
    with raw(s) as sock:
        sock.sendall(encode_command("HGETALL", "h"))
        expected = b"-ERR unknown command 'HGETALL'\r\n"
        assert recv_exactly(sock, len(expected)) == expected
        sock.sendall(b"PING\r\n")
        assert recv_exactly(sock, 7) == b"+PONG\r\n"


@pytest.mark.parametrize("pool", ["asyncio-inloop", "asyncio-offload", "shared-queue"])
def test_half_sent_request_waits_for_the_rest(servers: Servers, pool: str) -> None:
    s = servers.start(pool=pool)
    with raw(s) as sock:
        request = encode_command("SET", "half", "complete-value")
        sock.sendall(request[:17])
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(100)  # nothing to answer yet
        sock.settimeout(10)
        sock.sendall(request[17:-1])
        time.sleep(0.1)
        sock.sendall(request[-1:] + encode_command("GET", "half"))
        expected = b"+OK\r\n$14\r\ncomplete-value\r\n"
        assert recv_exactly(sock, len(expected)) == expected


@pytest.mark.parametrize("pool", ["asyncio-inloop", "asyncio-offload", "naive"])
def test_half_sent_then_dropped_and_mid_pipeline_disconnects(servers: Servers, pool: str) -> None:
    s = servers.start(pool=pool, extra=("--fsync", "never"))
    r = s.client()
    for _ in range(5):
        with raw(s) as sock:
            sock.sendall(encode_command("SET", "dropped", "x" * 100)[:30])
    # Many SETs in one write, then vanish without reading (and with a reset, not a FIN).
    for _ in range(5):
        sock = raw(s)
        sock.sendall(b"".join(encode_command("SET", f"p{i}", f"v{i}") for i in range(3000)))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
    assert s.alive()
    assert r.get("dropped") is None
    # Whatever part of the pipeline ran was applied whole: no torn or foreign values.
    values = [r.get(f"p{i}") for i in range(0, 3000, 97)]
    for i, v in zip(range(0, 3000, 97), values, strict=True):
        assert v in (None, f"v{i}".encode())
    r.close()


# --------------------------------------------------------------------------- concurrency


def hammer(port: int, clients: int, ops: int, tag: str) -> list[str]:
    """``clients`` threads, each its own connection, each SET then GET-verifying ``ops`` keys."""
    errors: list[str] = []

    def work(c: int) -> None:
        try:
            r = redis.Redis(port=port, socket_timeout=20, socket_connect_timeout=10)
            for i in range(ops):
                key, value = f"{tag}:{c}:{i}", f"{c}-{i}-{'x' * (i % 50)}".encode()
                assert r.set(key, value) is True
                got = r.get(key)
                if got != value:
                    errors.append(f"{key}: {got!r} != {value!r}")
            r.close()
        except Exception as exc:  # noqa: BLE001 - collected and asserted on below
            errors.append(f"client {c}: {exc!r}")

    threads = [threading.Thread(target=work, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(45)
    assert not any(t.is_alive() for t in threads), "clients hung"
    return errors


@pytest.mark.parametrize("pool", ["asyncio-inloop", "asyncio-offload", *POOLS[1:]])
def test_concurrent_clients_across_pools(servers: Servers, pool: str) -> None:
    s = servers.start(pool=pool, extra=("--threads", "16", "--fsync", "batch"))
    assert hammer(s.port, clients=16, ops=200, tag=pool) == []
    r = s.client()
    assert r.get(f"{pool}:15:199") == f"15-199-{'x' * 49}".encode()
    assert r.exists(*[f"{pool}:{c}:{i}" for c in range(16) for i in (0, 100, 199)]) == 48
    r.close()


def _rendezvous_jobs(pool: object, n: int, timeout: float = 5.0) -> bool:
    """True if ``n`` jobs ran at the same time: proof the pool has ``n`` live workers."""
    barrier = threading.Barrier(n + 1, timeout=timeout)
    done = threading.Event()

    def job() -> None:
        barrier.wait()

    for _ in range(n):
        pool.spawn(job)  # type: ignore[attr-defined]
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        return False
    done.set()
    return True


@pytest.mark.parametrize("make", [SharedQueueThreadPool, FuturesThreadPool, NaiveThreadPool])
def test_failing_jobs_do_not_shrink_the_pool(make: Callable[[int], object]) -> None:
    pool = make(4)

    def boom() -> None:
        raise RuntimeError("injected failure")

    try:
        for _ in range(20):
            pool.spawn(boom)  # type: ignore[attr-defined]
        assert _rendezvous_jobs(pool, 4)
        if isinstance(pool, SharedQueueThreadPool):
            assert pool.alive == 4
    finally:
        pool.shutdown(5)  # type: ignore[attr-defined]


def test_shared_queue_pool_is_bounded() -> None:
    """N workers means a fifth simultaneous job cannot start: the bound is real."""
    pool = SharedQueueThreadPool(4)
    try:
        assert not _rendezvous_jobs(pool, 5, timeout=1.0)
    finally:
        pool.shutdown(10)


@pytest.mark.parametrize("kind", ["shared-queue", "futures"])
def test_threaded_server_serves_n_clients_after_failing_jobs(tmp_path: Path, kind: str) -> None:
    """Inject failing jobs into the real server's pool, then hold N connections at once."""
    n = 4
    pool = SharedQueueThreadPool(n) if kind == "shared-queue" else FuturesThreadPool(n)
    engine = open_engine(tmp_path / "data", "kvs", fsync="never")
    server = ThreadedServer(engine, pool, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for _ in range(3 * n):
            pool.spawn(lambda: 1 / 0)  # type: ignore[arg-type,return-value]
        port = server.address[1]
        barrier = threading.Barrier(n, timeout=10)
        errors: list[str] = []

        def client(c: int) -> None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                    sock.sendall(encode_command("SET", f"c{c}", f"v{c}"))
                    assert recv_exactly(sock, 5) == b"+OK\r\n"
                    barrier.wait()  # every connection is being served at the same time
                    sock.sendall(encode_command("GET", f"c{c}"))
                    assert recv_exactly(sock, 8) == f"$2\r\nv{c}\r\n".encode()
            except Exception as exc:  # noqa: BLE001
                errors.append(f"client {c}: {exc!r}")

        threads = [threading.Thread(target=client, args=(c,)) for c in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert errors == []
    finally:
        server.shutdown()
        thread.join(15)
        engine.close()
    assert not thread.is_alive()


# --------------------------------------------------------------------------- durability


@pytest.mark.parametrize("engine", ["kvs", "sqlite"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_acknowledged_writes_survive_restart(servers: Servers, engine: str, sig: int) -> None:
    s = servers.start(engine=engine)  # default --fsync always
    r = s.client()
    pipe = r.pipeline(transaction=False)
    for i in range(300):
        pipe.set(f"d{i}", f"value-{i}")
    pipe.delete("d7")
    assert all(pipe.execute())
    r.close()
    code = s.stop(sig)
    assert code == (0 if sig == signal.SIGTERM else -signal.SIGKILL)
    if sig == signal.SIGTERM:
        assert "engine closed" in s.log_text()
    s2 = servers.start(engine=engine, data_dir=s.data_dir)
    r2 = s2.client()
    assert r2.get("d7") is None
    got = [r2.get(f"d{i}") for i in range(300)]
    assert got == [None if i == 7 else f"value-{i}".encode() for i in range(300)]
    r2.close()


@pytest.mark.parametrize(
    "pool", ["asyncio-inloop", "asyncio-offload", "shared-queue", "futures", "naive"]
)
def test_sigterm_with_idle_clients_connected_exits_promptly(servers: Servers, pool: str) -> None:
    s = servers.start(pool=pool, extra=("--threads", "2"))
    idle = [raw(s) for _ in range(3)]  # more than --threads: some wait in the queue
    try:
        idle[0].sendall(encode_command("SET", "k", "v"))
        assert recv_exactly(idle[0], 5) == b"+OK\r\n"
        # Exits without waiting for idle clients to speak: the stop timeout only bounds
        # a failure (benchmarks/wall_figures.py prints how long it takes).
        assert s.stop(signal.SIGTERM, timeout=30) == 0
        assert recv_until_closed(idle[0]) == b""  # closed by the server, not left hanging
    finally:
        for sock in idle:
            sock.close()


# --------------------------------------------------------------------------- kvs-client


def kvs_client(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "distlab.systems.kvs.client", *args],
        capture_output=True, text=True, timeout=20,
    )  # fmt: skip


def test_kvs_client_contract(servers: Servers) -> None:
    s = servers.start()
    addr = ("--addr", f"127.0.0.1:{s.port}")
    res = kvs_client("set", "key1", "value one", *addr)
    assert (res.returncode, res.stdout, res.stderr) == (0, "", "")
    res = kvs_client("get", "key1", *addr)
    assert (res.returncode, res.stdout) == (0, "value one\n")
    res = kvs_client("get", "nope", *addr)
    assert (res.returncode, res.stdout) == (0, "Key not found\n")
    res = kvs_client("rm", "key1", *addr)
    assert (res.returncode, res.stdout) == (0, "")
    res = kvs_client("rm", "key1", *addr)
    assert res.returncode != 0 and res.stdout == "Key not found\n"
    res = kvs_client("get", "key1", *addr)
    assert (res.returncode, res.stdout) == (0, "Key not found\n")
    res = kvs_client("get", *addr)
    assert res.returncode == 2  # usage error
    res = kvs_client("-V")
    assert res.returncode == 0 and __version__ in res.stdout


def test_kvs_client_unreachable_server_is_one_line_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    res = kvs_client("get", "k", "--addr", f"127.0.0.1:{port}")
    assert res.returncode == 1
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot connect to" in lines[0], res.stderr
