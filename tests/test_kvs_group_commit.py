"""kvs-server's group commit under --fsync always: a real AsyncServer on a real socket,
with the log file's fdatasync held back or failed on purpose, to see that no write is
acknowledged before its record is durable, that one fsync serves many clients, and that
a failed fsync acknowledges nothing. Each in both modes: the fsync on the event loop at the
end of the turn (the default, as Redis's appendfsync always) and in a helper thread
(``fsync_thread``, kvs-server --fsync-thread), where reads go on while an fsync hangs."""

from __future__ import annotations

import asyncio
import errno
import select
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

    def __init__(self, store: KvStore, fsync_thread: bool = False) -> None:
        self.store = store
        self.loop = asyncio.new_event_loop()
        self.server = AsyncServer(store, port=0, fsync_thread=fsync_thread)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.host, self.port = asyncio.run_coroutine_threadsafe(
            self.server.start(), self.loop
        ).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(20)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.store.close()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Any]:
    made: list[Running] = []

    def start(fsync: str = "always", fsync_thread: bool = False) -> Running:
        r = Running(KvStore.open(tmp_path / f"data{len(made)}", fsync=fsync), fsync_thread)
        made.append(r)
        return r

    yield start
    for r in made:
        r.stop()


MODES = pytest.mark.parametrize("fsync_thread", [False, True], ids=["on-loop", "thread"])


def test_group_commit_is_on_for_the_kvs_engine_with_fsync_always(running: Any) -> None:
    on_loop = running().server.group_commit
    assert on_loop is not None and on_loop.executor is None  # the default: on the loop
    threaded = running(fsync_thread=True).server.group_commit
    assert threaded is not None and threaded.executor is not None
    assert running(fsync="batch").server.group_commit is None


@MODES
def test_no_reply_before_the_fsync_completes(
    running: Any, monkeypatch: pytest.MonkeyPatch, fsync_thread: bool
) -> None:
    r = running(fsync_thread=fsync_thread)
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


@MODES
def test_one_fsync_serves_many_clients(
    running: Any, monkeypatch: pytest.MonkeyPatch, fsync_thread: bool
) -> None:
    r = running(fsync_thread=fsync_thread)
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


@MODES
def test_a_failed_fsync_acknowledges_nothing(
    running: Any, monkeypatch: pytest.MonkeyPatch, fsync_thread: bool
) -> None:
    r = running(fsync_thread=fsync_thread)
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


def _get_while_the_fsync_hangs(r: Running, monkeypatch: pytest.MonkeyPatch) -> tuple[bool, Any]:
    """SET on one connection with its fsync held, then GET a stored key on another: was the
    GET answered while the fsync hung? Also returns the thread the fsync ran in."""
    conn = redis.Redis(host=r.host, port=r.port, socket_timeout=10)
    assert conn.set("old", "1") is True
    gate, entered = threading.Event(), threading.Event()
    ran_in: list[threading.Thread] = []
    real_sync = store_module._LogFile.sync

    def held_sync(self: Any) -> None:
        ran_in.append(threading.current_thread())
        entered.set()
        assert gate.wait(20)
        real_sync(self)

    monkeypatch.setattr(store_module._LogFile, "sync", held_sync)
    writer = socket.create_connection((r.host, r.port), timeout=10)
    try:
        writer.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
        assert entered.wait(10)
        reader = socket.create_connection((r.host, r.port), timeout=10)
        reader.sendall(b"*2\r\n$3\r\nGET\r\n$3\r\nold\r\n")
        reader.settimeout(1.0)
        try:
            answered = reader.recv(100) == b"$1\r\n1\r\n"
        except TimeoutError:
            answered = False
        gate.set()
        reader.settimeout(10)
        if not answered:  # the loop was held: the GET is answered once the disk is back
            assert reader.recv(100) == b"$1\r\n1\r\n"
        reader.close()
        writer.settimeout(10)
        assert writer.recv(100) == b"+OK\r\n"
    finally:
        gate.set()
        writer.close()
    return answered, ran_in[0]


def test_threaded_mode_reads_flow_while_an_fsync_hangs(
    running: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = running(fsync_thread=True)
    answered, ran_in = _get_while_the_fsync_hangs(r, monkeypatch)
    assert answered  # the loop went on serving reads
    assert ran_in is not r.thread


def test_on_loop_mode_a_hanging_fsync_stalls_every_client(
    running: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = running()
    answered, ran_in = _get_while_the_fsync_hangs(r, monkeypatch)
    assert not answered  # as Redis with appendfsync always: the loop waits for the disk
    assert ran_in is r.thread


def test_on_loop_mode_one_fsync_per_turn_before_any_reply(
    running: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SETs from many connections that arrive in one loop turn: one append, one fsync on
    the loop thread, and while it runs no client has been sent anything."""
    r = running()
    clients = 8
    socks = [socket.create_connection((r.host, r.port), timeout=10) for _ in range(clients)]
    for s in socks:  # connected and served once, so the SETs below meet in one turn
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        assert s.recv(100) == b"+PONG\r\n"
    real_sync = store_module._LogFile.sync
    seen: list[tuple[threading.Thread, int]] = []  # per fsync: its thread, clients sent anything

    def checked_sync(self: Any) -> None:
        waiting = len(select.select(socks, [], [], 0)[0])  # clients with bytes to read
        seen.append((threading.current_thread(), waiting))
        real_sync(self)

    def send_all() -> None:  # on the loop: every request is readable before the turn starts
        for i, s in enumerate(socks):
            s.sendall(b"*3\r\n$3\r\nSET\r\n$2\r\nk%d\r\n$1\r\nv\r\n" % i)

    monkeypatch.setattr(store_module._LogFile, "sync", checked_sync)
    r.loop.call_soon_threadsafe(send_all)
    for s in socks:
        assert s.recv(100) == b"+OK\r\n"
        s.close()
    assert [(t is r.thread, waiting) for t, waiting in seen] == [(True, 0)]
    assert len(r.store) == clients


def test_on_loop_drain_syncs_what_waits_for_a_scheduled_fsync(tmp_path: Path) -> None:
    """kvs-server stop: writes whose on-loop fsync was scheduled, not run, get it now."""
    from distlab.systems.kvs.group_commit import GroupCommit

    store = KvStore.open(tmp_path / "d", fsync="always")
    store.defer_syncs()
    group = GroupCommit(store)
    told: list[BaseException | None] = []

    async def go() -> None:
        for key in (b"a", b"b"):
            store.set(key, b"1")
            group.wait(store.last_write, told.append)  # scheduled for the loop's next turn
        assert told == []
        await group.drain(5)  # before that turn: drained at once, one fsync for both
        assert told == [None, None] and group.fsyncs == 1

    asyncio.run(go())
    assert store.last_write is not None and store.last_write[0].synced >= store.last_write[1]
    group.close()
    store.close()
