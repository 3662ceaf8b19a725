"""kvs-server's group commit under --fsync always: a real AsyncServer on a real socket,
with the log file's fdatasync held back or failed on purpose, to see that no write is
acknowledged before its record is durable, that one fsync serves many clients, and that
a failed fsync acknowledges nothing."""

from __future__ import annotations

import asyncio
import errno
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from distlab.systems.kvs import store as store_module
from distlab.systems.kvs.aio_server import AsyncServer
from distlab.systems.kvs.store import KvStore

pytestmark = pytest.mark.timeout(60)


class Running:
    """An AsyncServer on its own event loop thread."""

    def __init__(self, store: KvStore) -> None:
        self.store = store
        self.loop = asyncio.new_event_loop()
        self.server = AsyncServer(store, port=0)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.host, self.port = asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(20)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.store.close()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Any]:
    made: list[Running] = []

    def start(fsync: str = "always") -> Running:
        r = Running(KvStore.open(tmp_path / f"data{len(made)}", fsync=fsync))
        made.append(r)
        return r

    yield start
    for r in made:
        r.stop()


def test_group_commit_is_on_for_the_kvs_engine_with_fsync_always(running: Any) -> None:
    assert running().server.group_commit is not None
    assert running(fsync="batch").server.group_commit is None


def test_no_reply_before_the_fsync_completes(running: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    r = running()
    gate = threading.Event()
    real_sync = store_module._LogFile.sync

    def held_sync(self: Any) -> None:
        assert gate.wait(20)
        real_sync(self)

    monkeypatch.setattr(store_module._LogFile, "sync", held_sync)
    sock = socket.create_connection((r.host, r.port), timeout=10)
    sock.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
    sock.settimeout(0.5)
    with pytest.raises(TimeoutError):
        sock.recv(100)  # the write is in the log, but not durable: nothing may be said yet
    gate.set()
    sock.settimeout(10)
    data = b""
    while not data.endswith(b"$1\r\nv\r\n"):
        data += sock.recv(100)
    assert data == b"+OK\r\n$1\r\nv\r\n"  # in order: the reply to SET first
    sock.close()


def test_one_fsync_serves_many_clients(running: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    r = running()
    real_sync = store_module._LogFile.sync
    syncs = []

    def slow_sync(self: Any) -> None:  # a disk that takes 5 ms a flush
        syncs.append(1)
        threading.Event().wait(0.005)
        real_sync(self)

    monkeypatch.setattr(store_module._LogFile, "sync", slow_sync)
    clients, per_client = 16, 40

    def work(c: int) -> None:
        conn = redis.Redis(host=r.host, port=r.port, socket_timeout=20)
        for i in range(per_client):
            assert conn.set(f"c{c}-{i}", f"v{i}") is True
        conn.close()

    threads = [threading.Thread(target=work, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    writes = clients * per_client
    assert len(r.store) == writes
    print(f"{writes} acknowledged writes, {len(syncs)} fsyncs")
    assert len(syncs) < writes / 4, f"{len(syncs)} fsyncs for {writes} writes: no grouping"


def test_a_failed_fsync_acknowledges_nothing(running: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    r = running()
    conn = redis.Redis(host=r.host, port=r.port, socket_timeout=10)
    assert conn.set("before", "1") is True

    def failing_sync(self: Any) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(store_module._LogFile, "sync", failing_sync)
    sock = socket.create_connection((r.host, r.port), timeout=10)
    sock.sendall(b"*3\r\n$3\r\nSET\r\n$4\r\nlost\r\n$1\r\n2\r\n")
    try:
        answer = sock.recv(100)
    except ConnectionResetError:
        answer = b""
    assert answer == b""  # dropped without a word: no +OK for a write that is not on disk
    sock.close()
    conn2 = redis.Redis(host=r.host, port=r.port, socket_timeout=10)
    with pytest.raises(redis.ResponseError, match="refuses writes after a failed sync"):
        conn2.set("after", "3")
    assert conn2.get("before") == b"1"  # reads go on
