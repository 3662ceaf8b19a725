"""kvs-server's loop turn (fsync never/batch): single SETs of every connection go to the log in
one append at the end of the turn, and replies leave then, one write per connection. These
check what that must not change: no SET is acknowledged before its record is in the log,
each connection's replies stay in order, a failed append acknowledges nothing, and a client
that half-closes right after its request still gets the reply."""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from distlab.systems.kvs import store as store_module
from distlab.systems.kvs.aio_server import AsyncServer, _RespProtocol
from distlab.systems.kvs.resp import encode_command
from distlab.systems.kvs.store import KvStore

pytestmark = pytest.mark.timeout(60)


class Transport:
    """Records what the server writes, and what the store held at each write."""

    def __init__(self, store: KvStore, key: bytes) -> None:
        self.store, self.key = store, key
        self.writes: list[tuple[bytes, bytes | None]] = []
        self.closed = False
        self.reading = True

    @property
    def sent(self) -> bytes:
        return b"".join(data for data, _ in self.writes)

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.writes.append((data, self.store.get(self.key)))

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def can_write_eof(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


def connect(server: AsyncServer, store: KvStore, key: bytes) -> tuple[_RespProtocol, Transport]:
    conn = _RespProtocol(server)
    transport = Transport(store, key)
    conn.connection_made(transport)  # type: ignore[arg-type]
    return conn, transport


def count_appends(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    appends: list[int] = []
    real = store_module._pwrite

    def pwrite(fd: int, data: bytes, offset: int) -> int:
        appends.append(len(data))
        return real(fd, data, offset)

    monkeypatch.setattr(store_module, "_pwrite", pwrite)
    return appends


@pytest.mark.parametrize("fsync", ["never", "batch"])
def test_sets_of_one_turn_share_one_append_and_are_acknowledged_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsync: str
) -> None:
    store = KvStore.open(tmp_path / "d", fsync=fsync)
    appends = count_appends(monkeypatch)

    async def go() -> list[Transport]:
        server = AsyncServer(store)
        conns = [connect(server, store, b"k%d" % i) for i in range(5)]
        for i, (conn, _) in enumerate(conns):
            conn.data_received(encode_command("SET", f"k{i}", f"v{i}"))
        # Nothing is written, nor acknowledged, before the turn ends.
        assert appends == [] and all(t.writes == [] for _, t in conns)
        assert store.get(b"k0") is None
        await asyncio.sleep(0)
        return [t for _, t in conns]

    transports = asyncio.run(go())
    assert len(appends) == 1  # five SETs, one append
    for i, t in enumerate(transports):
        # one write each; when it left, the SET was in the log already
        assert t.writes == [(b"+OK\r\n", b"v%d" % i)]
    store.close()
    reopened = KvStore.open(tmp_path / "d", fsync="never")
    assert [reopened.get(b"k%d" % i) for i in range(5)] == [b"v%d" % i for i in range(5)]
    reopened.close()


def test_requests_behind_a_deferred_set_wait_and_keep_their_order(tmp_path: Path) -> None:
    store = KvStore.open(tmp_path / "d", fsync="never")

    async def go() -> tuple[Transport, Transport]:
        server = AsyncServer(store)
        a, ta = connect(server, store, b"k")
        b, tb = connect(server, store, b"k")
        a.data_received(encode_command("SET", "k", "1"))
        b.data_received(encode_command("GET", "k"))  # not acknowledged yet: may miss it
        a.data_received(encode_command("GET", "k"))  # its own SET: must see it
        a.data_received(encode_command("SET", "k", "2") + encode_command("GET", "k"))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return ta, tb

    ta, tb = asyncio.run(go())
    assert ta.sent == b"+OK\r\n$1\r\n1\r\n+OK\r\n$1\r\n2\r\n"
    assert tb.sent == b"$-1\r\n"
    store.close()


def test_a_failed_append_acknowledges_no_set_of_the_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = KvStore.open(tmp_path / "d", fsync="never")

    def full_disk(fd: int, data: bytes, offset: int) -> int:
        raise OSError(28, "No space left on device")

    async def go() -> list[Transport]:
        server = AsyncServer(store)
        conns = [connect(server, store, b"k") for _ in range(3)]
        monkeypatch.setattr(store_module, "_pwrite", full_disk)
        for i, (conn, _) in enumerate(conns):
            conn.data_received(encode_command("SET", "k", str(i)))
        await asyncio.sleep(0)
        monkeypatch.undo()
        conns[0][0].data_received(encode_command("GET", "k"))  # the connection stays
        await asyncio.sleep(0)
        return [t for _, t in conns]

    transports = asyncio.run(go())
    for t in transports:
        assert t.sent.startswith(b"-ERR write to ") and b"No space left on device" in t.sent
        assert not t.closed
    assert transports[0].sent.endswith(b"\r\n$-1\r\n")
    assert store.get(b"k") is None
    store.close()


@pytest.mark.parametrize(
    ("request_", "reply"),
    [(encode_command("SET", "k", "v"), b"+OK\r\n"), (encode_command("GET", "k"), b"$-1\r\n")],
    ids=["set", "get"],
)
def test_a_client_that_half_closes_right_after_its_request_gets_the_reply(
    tmp_path: Path, request_: bytes, reply: bytes
) -> None:
    store = KvStore.open(tmp_path / "d", fsync="never")

    async def go() -> Transport:
        server = AsyncServer(store)
        conn, transport = connect(server, store, b"k")
        conn.data_received(request_)
        if not conn.eof_received():  # in the same turn; asyncio closes when told False
            transport.close()
        await asyncio.sleep(0)
        return transport

    transport = asyncio.run(go())
    assert transport.sent == reply and transport.closed
    store.close()


def test_a_real_client_that_half_closes_gets_its_replies(tmp_path: Path) -> None:
    store = KvStore.open(tmp_path / "d", fsync="never")
    loop = asyncio.new_event_loop()
    server = AsyncServer(store, port=0)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        host, port = asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
        for request, want in [
            (encode_command("SET", "k", "v"), b"+OK\r\n"),
            (encode_command("GET", "k"), b"$1\r\nv\r\n"),
        ]:
            with socket.create_connection((host, port), timeout=10) as sock:
                sock.sendall(request)
                sock.shutdown(socket.SHUT_WR)
                got = b""
                while chunk := sock.recv(100):
                    got += chunk
            assert got == want
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(20)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        store.close()


@pytest.mark.parametrize("fsync_thread", [False, True], ids=["on-loop", "thread"])
def test_under_group_commit_the_turns_sets_share_one_append_and_wait_for_the_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsync_thread: bool
) -> None:
    store = KvStore.open(tmp_path / "d", fsync="always")
    appends = count_appends(monkeypatch)
    durable: list[int] = []
    replied_before_fsync: list[bool] = []
    transports: list[Transport] = []
    real_sync = store_module._LogFile.sync

    def sync(self: Any) -> None:
        replied_before_fsync.append(any(t.writes for t in transports))
        real_sync(self)
        durable.append(self.size)

    monkeypatch.setattr(store_module._LogFile, "sync", sync)

    async def go() -> None:
        server = AsyncServer(store, fsync_thread=fsync_thread)
        conns = [connect(server, store, b"k%d" % i) for i in range(4)]
        transports.extend(t for _, t in conns)
        for i, (conn, _) in enumerate(conns):
            conn.data_received(encode_command("SET", f"k{i}", f"v{i}"))
        assert len(appends) == 0  # deferred to the end of the turn
        await asyncio.sleep(0)  # the turn ends: one append, the fsync starts (on the loop: ends)
        assert len(appends) == 1
        if not fsync_thread:
            assert len(durable) == 1 and all(t.writes for t in transports)
        for _ in range(200):
            if all(t.writes for t in transports):
                break
            await asyncio.sleep(0.01)
        await server.stop()

    asyncio.run(go())
    assert len(appends) == 1 and len(durable) == 1  # four SETs: one append, one fsync
    assert replied_before_fsync == [False]  # no reply left before the fsync
    for t in transports:
        assert t.sent == b"+OK\r\n"
    store.close()


def test_offload_keeps_its_own_path(tmp_path: Path) -> None:
    # offload runs commands on threads: it does not defer SETs to the turn's end.
    store = KvStore.open(tmp_path / "n", fsync="never")
    server: Any = AsyncServer(store, offload_threads=2)
    assert server.set_many is None
    server.executor.shutdown()
    assert AsyncServer(store).set_many is not None
    store.close()


@pytest.mark.parametrize("fsync_thread", [False, True], ids=["on-loop", "thread"])
def test_under_group_commit_a_single_set_is_not_acknowledged_before_its_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsync_thread: bool
) -> None:
    store = KvStore.open(tmp_path / "d", fsync="always")
    gate = threading.Event()
    real_sync = store_module._LogFile.sync

    def held_sync(self: Any) -> None:
        assert gate.wait(20)
        real_sync(self)

    monkeypatch.setattr(store_module._LogFile, "sync", held_sync)
    loop = asyncio.new_event_loop()
    server = AsyncServer(store, port=0, fsync_thread=fsync_thread)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        host, port = asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(encode_command("SET", "k", "v"))  # alone: the turn's deferred path
            sock.settimeout(0.5)
            with pytest.raises(TimeoutError):
                sock.recv(100)  # appended, not durable: nothing may be said yet
            sock.sendall(encode_command("GET", "k"))  # waits behind the SET
            gate.set()
            sock.settimeout(10)
            data = b""
            while not data.endswith(b"$1\r\nv\r\n"):
                data += sock.recv(100)
            assert data == b"+OK\r\n$1\r\nv\r\n"
    finally:
        gate.set()
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(20)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        store.close()


def test_with_metrics_the_fast_paths_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distlab.systems.kvs.metrics import COMMANDS, KvsMetrics

    store = KvStore.open(tmp_path / "d", fsync="never")
    metrics = KvsMetrics(store)
    appends = count_appends(monkeypatch)

    async def go() -> list[Transport]:
        server = AsyncServer(store)
        server.handler = metrics.handler(store)  # as kvs-server --status-addr does
        conns = [connect(server, store, b"k") for _ in range(3)]
        for i, (conn, _) in enumerate(conns):
            conn.data_received(encode_command("SET", "k", str(i)))
        await asyncio.sleep(0)
        for conn, _ in conns:
            conn.data_received(encode_command("GET", "k"))
        conns[0][0].data_received(encode_command("SET", "k", "v", "EX", "1"))  # an error
        await asyncio.sleep(0)
        return [t for _, t in conns]

    transports = asyncio.run(go())
    assert len(appends) == 1  # the turn's three SETs still share one append
    assert [t.sent for t in transports][1:] == [b"+OK\r\n$1\r\n2\r\n"] * 2
    stats = metrics.requests
    at = {name: i for i, name in enumerate(COMMANDS)}
    assert stats.requests[at["set"]] == 4 and stats.errors[at["set"]] == 1
    assert stats.requests[at["get"]] == 3 and stats.errors[at["get"]] == 0
    assert sum(stats.buckets[at["set"]]) == 4 and sum(stats.buckets[at["get"]]) == 3
    store.close()
