"""kvs-server: the kvs engines behind RESP, so redis-cli, redis-py and redis-benchmark work.

Two ways to serve, chosen with ``--pool``:

* ``asyncio`` (default): one event loop, one :class:`asyncio.Protocol` per connection.
  Engine calls run in the loop thread: they take microseconds (kvs, lmdb, rocksdb, sqlite
  reads), and a thread hop per request costs more than it saves (measured; ``--offload on``
  runs them on threads instead, see :class:`AsyncServer`).
* ``naive`` / ``shared-queue`` / ``futures``: Talent Plan's thread pools.  A blocking
  accept loop hands each connection to the pool as one job, so at most ``--threads``
  connections are served at once (the rest wait in the queue).  A job that raises is
  logged and the worker keeps going, so the pool never shrinks.

Commands: GET, SET (no options), DEL, EXISTS, PING, ECHO, QUIT; plus what real clients send
on their own: HELLO 2|3 (redis-py >= 8 insists on RESP3; our replies differ only in nulls
and maps), CONFIG GET (redis-benchmark), COMMAND (redis-cli), CLIENT SETINFO (redis-py).

Every variant answers a pipeline in order, replies ``-ERR`` to unknown commands and keeps
the connection, and answers malformed framing with ``-ERR Protocol error: ...`` before
closing the connection.  A reply is sent only after the engine call returned, so with
``--fsync always`` (the default) an acknowledged write is on disk; the asyncio server on the
kvs engine gets there by group commit (:class:`GroupCommit`): writes are appended at once,
one fdatasync at a time covers all that were appended before it began, and each
connection's replies wait for the fsync that covers its writes.  SIGTERM/SIGINT stop
accepting, let in-flight requests finish, then close the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import selectors
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from typing import Any, Protocol

import click

from distlab import __version__
from distlab.systems.kvs.engines import ENGINES, FSYNC_POLICIES, Engine, KeyNotFound, open_engine
from distlab.systems.kvs.resp import (
    DEFAULT_MAX_ARRAY_LEN,
    DEFAULT_MAX_BULK_LEN,
    CommandParser,
    ProtocolError,
    encode_bulk,
    encode_error,
    encode_integer,
)

__all__ = [
    "POOLS",
    "AsyncServer",
    "Session",
    "CommandHandler",
    "FuturesThreadPool",
    "NaiveThreadPool",
    "SharedQueueThreadPool",
    "ThreadPool",
    "run_commands",
    "ThreadedServer",
    "main",
    "make_pool",
    "parse_addr",
]

log = logging.getLogger("kvs-server")

POOLS = ("asyncio", "naive", "shared-queue", "futures")

OK = b"+OK\r\n"
PONG = b"+PONG\r\n"
NIL = b"$-1\r\n"
NULL3 = b"_\r\n"
EMPTY_ARRAY = b"*0\r\n"
CONFIG_VALUES = {b"save": b"", b"appendonly": b"no"}
# Flush replies once this many bytes are pending, so a pipeline of GETs of big values
# cannot make one connection buffer gigabytes before the first byte goes out.
FLUSH_AT = 1 << 20
# How long a connection that broke the protocol may keep sending before we drop it; reading
# (and discarding) until then lets the error reply arrive instead of a TCP reset.
LINGER_SECONDS = 1.0
# Thread pools serve one connection per worker; redis-benchmark alone opens 50.
DEFAULT_THREADS = 64
# Offload mode: most commands one connection may hand to the executor in one go.
MAX_BATCH = 256
OFFLOAD_MODES = ("off", "on")
OFFLOAD_THREADS = 32


# --------------------------------------------------------------------------- commands


class Session:
    """Per-connection state: the request parser and the RESP version HELLO chose."""

    __slots__ = ("id", "nil", "parser", "resp")
    _ids = iter(range(1, 1 << 62))

    def __init__(self, parser: CommandParser) -> None:
        self.parser = parser
        self.id = next(Session._ids)
        self.resp = 2
        self.nil = NIL  # "$-1" in RESP2, "_" in RESP3


class CommandHandler:
    """Runs one parsed command against the engine; shared by every server variant.

    ``execute`` returns ``(reply, close)``; it never raises for anything a client can
    send or the engine can fail with: those become ``-ERR`` replies.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._commands: dict[bytes, Callable[[list[bytes], Session], bytes]] = {
            b"GET": self._get,
            b"SET": self._set,
            b"DEL": self._del,
            b"EXISTS": self._exists,
            b"PING": self._ping,
            b"ECHO": self._echo,
            b"HELLO": self._hello,
            b"COMMAND": self._command,
            b"CONFIG": self._config,
            b"CLIENT": self._client,
        }

    def execute(self, args: list[bytes], session: Session) -> tuple[bytes, bool]:
        name = args[0]
        func = self._commands.get(name)  # clients send upper case: skip .upper() then
        if func is None:
            name = name.upper()
            func = self._commands.get(name)
        if func is None:
            if name == b"QUIT":
                return OK, True
            shown = args[0][:128].decode("utf-8", "replace")
            return encode_error(f"ERR unknown command '{shown}'"), False
        try:
            return func(args, session), False
        except Exception as exc:  # noqa: BLE001 - a failing engine call must not kill the link
            log.warning("%s failed: %s", name.decode(), exc)
            return encode_error(f"ERR {exc or type(exc).__name__}"), False

    @staticmethod
    def _arity(args: list[bytes]) -> bytes:
        return encode_error(
            f"ERR wrong number of arguments for '{args[0].decode('utf-8', 'replace').lower()}'"
            " command"
        )

    def _get(self, args: list[bytes], s: Session) -> bytes:
        if len(args) != 2:
            return self._arity(args)
        value = self.engine.get(args[1])
        if value is None:
            return s.nil
        return b"$%d\r\n%b\r\n" % (len(value), value)

    def _set(self, args: list[bytes], s: Session) -> bytes:
        if len(args) < 3:
            return self._arity(args)
        if len(args) > 3:
            # EX/PX/NX/XX/GET/KEEPTTL change what SET means; ignoring them would lie.
            opt = args[3].decode("utf-8", "replace")
            return encode_error(f"ERR syntax error: SET option '{opt}' is not supported")
        self.engine.set(args[1], args[2])
        return OK

    def _del(self, args: list[bytes], s: Session) -> bytes:
        if len(args) < 2:
            return self._arity(args)
        removed = 0
        for key in args[1:]:
            try:
                self.engine.remove(key)
            except KeyNotFound:
                continue
            removed += 1
        return b":%d\r\n" % removed

    def _exists(self, args: list[bytes], s: Session) -> bytes:
        if len(args) < 2:
            return self._arity(args)
        return encode_integer(sum(self.engine.get(key) is not None for key in args[1:]))

    def _ping(self, args: list[bytes], s: Session) -> bytes:
        if len(args) == 1:
            return PONG
        if len(args) == 2:
            return encode_bulk(args[1])
        return self._arity(args)

    def _echo(self, args: list[bytes], s: Session) -> bytes:
        # redis-cli --pipe ends its stream with ECHO <marker> to know every reply arrived.
        if len(args) != 2:
            return self._arity(args)
        return encode_bulk(args[1])

    def _hello(self, args: list[bytes], s: Session) -> bytes:
        # redis-py >= 8 opens every connection with HELLO 3 and gives up if it fails. Our
        # replies differ between RESP2 and RESP3 only in nulls and maps, so both are cheap.
        if len(args) >= 2:
            if args[1] not in (b"2", b"3"):
                return encode_error("NOPROTO unsupported protocol version")
            for opt in args[2::2]:
                if opt.upper() == b"AUTH":
                    return encode_error("ERR AUTH is not supported")
            s.resp = int(args[1])
            s.nil = NIL if s.resp == 2 else NULL3
        info = [
            (b"server", encode_bulk(b"kvs")),
            (b"version", encode_bulk(__version__.encode())),
            (b"proto", encode_integer(s.resp)),
            (b"id", encode_integer(s.id)),
            (b"mode", encode_bulk(b"standalone")),
            (b"role", encode_bulk(b"master")),
            (b"modules", EMPTY_ARRAY),
        ]
        return _map(s, info)

    def _command(self, args: list[bytes], s: Session) -> bytes:
        # redis-cli asks for COMMAND DOCS to draw hints; an empty answer just means none.
        return EMPTY_ARRAY

    def _config(self, args: list[bytes], s: Session) -> bytes:
        # redis-benchmark starts with CONFIG GET save / appendonly and warns unless it gets
        # a [name, value] pair; durability here is the engine's --fsync, not redis' settings.
        if len(args) == 3 and args[1].upper() == b"GET":
            name = args[2].lower()
            value = CONFIG_VALUES.get(name)
            return _map(s, [] if value is None else [(name, encode_bulk(value))])
        return encode_error("ERR CONFIG is not supported except CONFIG GET")

    def _client(self, args: list[bytes], s: Session) -> bytes:
        # redis-py >= 5 sends CLIENT SETINFO on connect; accepting it keeps its logs quiet.
        sub = args[1].upper() if len(args) >= 2 else b""
        if sub in (b"SETINFO", b"SETNAME"):
            return OK
        if sub == b"GETNAME":
            return s.nil
        if sub == b"ID":
            return encode_integer(s.id)
        return encode_error("ERR CLIENT is not supported except SETINFO, SETNAME, GETNAME, ID")


def _map(s: Session, pairs: list[tuple[bytes, bytes]]) -> bytes:
    """A RESP3 map, or the flat [k1, v1, k2, v2...] array RESP2 uses instead."""
    head = b"%%%d\r\n" % len(pairs) if s.resp == 3 else b"*%d\r\n" % (2 * len(pairs))
    return head + b"".join(encode_bulk(k) + v for k, v in pairs)


def run_commands(session: Session, handler: CommandHandler, out: list[bytes]) -> tuple[bool, int]:
    """Answer every complete buffered command into ``out``; stop early at FLUSH_AT bytes.

    Returns (close, pending_bytes).  A protocol error appends its ``-ERR`` and asks to close.
    """
    size = 0
    parser = session.parser
    try:
        while size < FLUSH_AT:
            cmd = parser.next_command()
            if cmd is None:
                break
            reply, close = handler.execute(cmd, session)
            out.append(reply)
            size += len(reply)
            if close:
                return True, size
    except ProtocolError as exc:
        out.append(protocol_error_reply(session, exc))
        return True, size
    return False, size


def protocol_error_reply(session: Session, exc: ProtocolError) -> bytes:
    """Log a broken stream and build the ``-ERR Protocol error: ...`` sent before closing."""
    log.info("connection %d: %s; closing it", session.id, exc)
    return encode_error(f"ERR {exc}")


# --------------------------------------------------------------------------- asyncio


class GroupCommit:
    """One fdatasync at a time for all connections, in a helper thread.

    With the kvs engine under ``--fsync always`` the asyncio server appends writes at once
    (``KvStore.defer_syncs``) and holds a connection's replies until the writes behind
    them are durable. Requests that arrive while an fsync runs are covered by the next
    one, so under N busy clients one fsync acknowledges up to N writes, and no reply to
    a write leaves before its record is on disk."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="kvs-fsync")
        self.waiting: list[tuple[Any, asyncio.Future[None]]] = []
        self.running: asyncio.Future[None] | None = None
        self.fsyncs = 0

    def wait(self, point: Any) -> asyncio.Future[None]:
        """A future that completes once the write ending at ``point`` is durable."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append((point, fut))
        if self.running is None:
            self._start()
        return fut

    def _start(self) -> None:
        batch, self.waiting = self.waiting, []
        newest: dict[int, Any] = {}  # per log file, the furthest point asked for
        for point, _ in batch:
            f = id(point[0])
            if f not in newest or point[1] > newest[f][1]:
                newest[f] = point
        loop = asyncio.get_running_loop()
        self.running = loop.run_in_executor(self.executor, self._sync, list(newest.values()))
        self.running.add_done_callback(lambda done: self._done(done, batch))

    def _sync(self, points: list[Any]) -> None:
        for point in points:
            self.store.wait_durable(point)

    def _done(self, done: asyncio.Future[None], batch: list[tuple[Any, asyncio.Future[None]]]) -> None:
        self.running = None
        self.fsyncs += 1
        error = None if done.cancelled() else done.exception()
        for _, fut in batch:
            if fut.done():
                continue
            if error is None:
                fut.set_result(None)
            else:
                fut.set_exception(error)
        if self.waiting:
            self._start()

    def close(self) -> None:
        self.executor.shutdown(wait=True)


class _RespProtocol(asyncio.Protocol):
    """One client connection on the event loop; honours write back-pressure."""

    def __init__(self, server: AsyncServer) -> None:
        self.server = server
        self.session = Session(server.new_parser())
        self.parser = self.session.parser
        self.execute = server.handler.execute
        self.transport: asyncio.Transport | None = None
        self.paused = False
        self.closing = False
        self.busy = False  # a batch runs on the executor, or waits for its fsync
        self.eof = False  # the client half-closed its side
        self.group = server.group_commit

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return  # lingering after a protocol error: discard
        parser = self.parser
        parser.feed(data)
        if self.server.executor is not None:
            if not self.busy and not self.paused:
                self._dispatch()
            elif self.busy and parser.buffered > FLUSH_AT and self.transport is not None:
                self.transport.pause_reading()  # bound what piles up behind a batch
            return
        if self.busy:  # replies wait for an fsync: keep the bytes, bound the backlog
            if parser.buffered > FLUSH_AT and self.transport is not None:
                self.transport.pause_reading()
            return
        if not self.paused:
            # Hot path (one request per read, as redis-benchmark sends): no list, no join.
            try:
                cmd = parser.next_command()
            except ProtocolError as exc:
                self._send_and_close(protocol_error_reply(self.session, exc))
                return
            if cmd is not None:
                if not parser.pending:
                    group = self.group
                    before = group.store.last_write if group is not None else None
                    reply, close = self.execute(cmd, self.session)
                    if group is not None and group.store.last_write is not before:
                        self._after_fsync(group.store.last_write, [reply], close)
                    elif close:
                        self._send_and_close(reply)
                    else:
                        self.transport.write(reply)  # type: ignore[union-attr]
                    return
                parser.push_back(cmd)
        self._process()

    def _process(self) -> None:
        handler = self.server.handler
        group = self.group
        while not self.paused and not self.busy and self.transport is not None:
            out: list[bytes] = []
            before = group.store.last_write if group is not None else None
            close, size = run_commands(self.session, handler, out)
            if group is not None and group.store.last_write is not before:
                self._after_fsync(group.store.last_write, out, close)
                return
            if out:
                self.transport.write(b"".join(out) if len(out) > 1 else out[0])
            if close:
                self._close_gracefully()
                return
            if size < FLUSH_AT:
                return  # parser drained; wait for more bytes

    # -- group commit: replies to a batch that wrote leave once its last write is durable

    def _after_fsync(self, point: Any, out: list[bytes], close: bool) -> None:
        self.busy = True
        assert self.group is not None
        fut = self.group.wait(point)
        self.server.inflight.add(fut)  # type: ignore[arg-type]
        fut.add_done_callback(lambda f: self._durable(f, out, close))

    def _durable(self, fut: asyncio.Future[None], out: list[bytes], close: bool) -> None:
        self.server.inflight.discard(fut)  # type: ignore[arg-type]
        self.busy = False
        transport = self.transport
        if transport is None:
            return  # the client left; its writes stand
        if fut.cancelled() or fut.exception() is not None:
            log.error("connection %d: fsync failed (%s); closing it without replies",
                      self.session.id, None if fut.cancelled() else fut.exception())
            transport.abort()  # an acknowledgement now would be a lie
            return
        transport.write(b"".join(out))
        if close:
            self._close_gracefully()
            return
        if not self.closing:
            if not self.eof:
                transport.resume_reading()
            self._process()
            self._finish_eof()

    # -- offload mode: batches of commands run on the executor, one batch per connection
    # at a time, so replies stay in order while many connections wait on the disk at once.

    def _dispatch(self) -> None:
        cmds: list[list[bytes]] = []
        error: ProtocolError | None = None
        try:
            while len(cmds) < MAX_BATCH:
                cmd = self.parser.next_command()
                if cmd is None:
                    break
                cmds.append(cmd)
        except ProtocolError as exc:
            error = exc
        if not cmds:
            if error is not None:
                self._send_and_close(protocol_error_reply(self.session, error))
            return
        self.busy = True
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(self.server.executor, self._run_batch, cmds)
        self.server.inflight.add(fut)
        fut.add_done_callback(lambda f: self._batch_done(f, error))

    def _run_batch(self, cmds: list[list[bytes]]) -> tuple[bytes, bool]:
        """Worker thread: execute in order; stop at QUIT."""
        out = []
        for cmd in cmds:
            reply, close = self.execute(cmd, self.session)
            out.append(reply)
            if close:
                return b"".join(out), True
        return b"".join(out), False

    def _batch_done(
        self, fut: asyncio.Future[tuple[bytes, bool]], error: ProtocolError | None
    ) -> None:
        self.server.inflight.discard(fut)
        self.busy = False
        transport = self.transport
        if transport is None or fut.cancelled():
            return  # the client left; its writes were still applied
        reply, close = fut.result()  # execute() never raises
        if close:
            self._send_and_close(reply)
            return
        transport.write(reply)
        if error is not None:
            self._send_and_close(protocol_error_reply(self.session, error))
            return
        if not self.closing:
            if not self.eof:
                transport.resume_reading()
            if not self.paused:
                self._dispatch()
            self._finish_eof()

    def _send_and_close(self, reply: bytes) -> None:
        if self.transport is not None:
            self.transport.write(reply)
            self._close_gracefully()

    def _close_gracefully(self) -> None:
        """Send what is buffered, half-close, and drop the link after a short linger."""
        transport = self.transport
        if transport is None:
            return
        self.closing = True
        if transport.can_write_eof():
            transport.write_eof()
            asyncio.get_running_loop().call_later(LINGER_SECONDS, transport.close)
        else:
            transport.close()

    def eof_received(self) -> bool:
        """The client half-closed: answer what it already sent, then close our side too."""
        self.eof = True
        # Keep the transport while a batch runs or paused work remains; _finish_eof closes.
        return self.busy or (self.paused and self.parser.pending)

    def _finish_eof(self) -> None:
        if self.eof and not self.busy and self.transport is not None and not self.closing:
            self.transport.close()

    def pause_writing(self) -> None:
        self.paused = True
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.paused = False
        if self.transport is not None and not self.closing:
            self.transport.resume_reading()
            if self.server.executor is None:
                self._process()  # does nothing while replies wait for an fsync
            elif not self.busy:
                self._dispatch()
            if not self.parser.pending:
                self._finish_eof()


class AsyncServer:
    """The default server: asyncio; engine calls in the loop thread, or offloaded.

    With ``offload_threads`` > 0 each connection's commands run in batches on a thread
    pool, in order per connection. The hope was that with ``--fsync always`` concurrent
    SETs would share fdatasyncs (the kvs engine's group commit does ~10k sets/s from 32
    threads vs ~4k from one). Measured with redis-benchmark (50 clients, 2 shared CPUs):
    SET 3.4k -> 4.0-4.8k req/s but GET 34k -> 10k, the thread hops and GIL hand-offs
    eating the gain; so it is off by default and kept as an option to measure again.
    Without it, the kvs engine under ``--fsync always`` is served with :class:`GroupCommit`
    (one helper thread for fsyncs, engine calls in the loop): SET went from ~3.4k to
    ~20k+ req/s on the same benchmark, GET unchanged.
    """

    def __init__(
        self,
        engine: Engine,
        host: str = "127.0.0.1",
        port: int = 4000,
        max_bulk_len: int = DEFAULT_MAX_BULK_LEN,
        max_array_len: int = DEFAULT_MAX_ARRAY_LEN,
        offload_threads: int = 0,
    ) -> None:
        self.executor = (
            ThreadPoolExecutor(offload_threads, thread_name_prefix="kvs-offload")
            if offload_threads > 0
            else None
        )
        self.inflight: set[asyncio.Future[tuple[bytes, bool]]] = set()
        self.group_commit: GroupCommit | None = None
        if self.executor is None and getattr(engine, "fsync", None) == "always" and hasattr(
            engine, "defer_syncs"
        ):
            engine.defer_syncs()  # type: ignore[attr-defined]
            self.group_commit = GroupCommit(engine)
        self.handler = CommandHandler(engine)
        self.host, self.port = host, port
        self.max_bulk_len, self.max_array_len = max_bulk_len, max_array_len
        self.connections: set[_RespProtocol] = set()
        self.address: tuple[str, int] | None = None
        self._server: asyncio.Server | None = None

    def new_parser(self) -> CommandParser:
        return CommandParser(max_bulk_len=self.max_bulk_len, max_array_len=self.max_array_len)

    async def start(self) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        # Bind ourselves: a busy port then raises a plain OSError with a one-line strerror.
        sock = _listen_socket(self.host, self.port)
        self._server = await loop.create_server(lambda: _RespProtocol(self), sock=sock)
        sockname = self._server.sockets[0].getsockname()
        self.address = (sockname[0], sockname[1])
        return self.address

    async def stop(self) -> None:
        """Stop accepting and close every connection; requests already read were answered."""
        if self._server is not None:
            self._server.close()
        if self.inflight:  # let running batches finish and answer before closing
            await asyncio.wait(list(self.inflight), timeout=10)
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
        if self.group_commit is not None:
            self.group_commit.close()
        for proto in list(self.connections):
            if proto.transport is not None:
                proto.transport.close()
        if self._server is not None:
            await self._server.wait_closed()

    async def serve(self, stop: asyncio.Event) -> None:
        if self._server is None:
            await self.start()
        await stop.wait()
        await self.stop()


def _listen_socket(host: str, port: int) -> socket.socket:
    """A non-blocking listening TCP socket (SO_REUSEADDR, so restarts need no wait)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


# --------------------------------------------------------------------------- thread pools


class ThreadPool(Protocol):
    """Talent Plan's ThreadPool: run jobs on other threads; a failing job is only logged."""

    def spawn(self, job: Callable[[], None]) -> None: ...

    def shutdown(self, timeout: float = 5.0) -> None: ...


def _run_job(job: Callable[[], None]) -> None:
    try:
        job()
    except Exception:  # noqa: BLE001 - the pool outlives its jobs
        log.exception("job failed")


class NaiveThreadPool:
    """A new thread per job: unbounded, simple, and the baseline the others are measured by."""

    def __init__(self, threads: int = 0) -> None:
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def spawn(self, job: Callable[[], None]) -> None:
        def run() -> None:
            try:
                _run_job(job)
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())

        t = threading.Thread(target=run, name="kvs-naive", daemon=True)
        with self._lock:
            self._threads.add(t)
        t.start()

    def shutdown(self, timeout: float = 5.0) -> None:
        with self._lock:
            threads = list(self._threads)
        _join_all(threads, timeout)


class SharedQueueThreadPool:
    """N long-lived workers taking jobs from one queue.

    A job's exception is caught and logged inside the worker loop; should a worker still
    die (a BaseException), it starts its own replacement first, as Talent Plan's does on
    panic, so the pool keeps N workers until shutdown.
    """

    def __init__(self, threads: int) -> None:
        if threads < 1:
            raise ValueError("threads must be >= 1")
        self.size = threads
        self._queue: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._workers: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(threads):
            self._start_worker()

    def _start_worker(self) -> None:
        t = threading.Thread(target=self._work, name="kvs-worker", daemon=True)
        with self._lock:
            self._workers.add(t)
        t.start()

    def _work(self) -> None:
        clean = False
        try:
            while True:
                job = self._queue.get()
                if job is None:
                    clean = True
                    return
                _run_job(job)
        finally:
            with self._lock:
                self._workers.discard(threading.current_thread())
                replace = not clean and not self._closed
            if replace:
                self._start_worker()

    @property
    def alive(self) -> int:
        """Workers currently running (N unless shutting down)."""
        with self._lock:
            return sum(t.is_alive() for t in self._workers)

    def spawn(self, job: Callable[[], None]) -> None:
        if self._closed:
            raise RuntimeError("pool is shut down")
        self._queue.put(job)

    def shutdown(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._workers)
        for _ in workers:
            self._queue.put(None)
        _join_all(workers, timeout)


class FuturesThreadPool:
    """concurrent.futures.ThreadPoolExecutor: the Python analogue of Talent Plan's rayon pool.

    The executor stores a job's exception in its Future; we log it from a callback.
    """

    def __init__(self, threads: int) -> None:
        if threads < 1:
            raise ValueError("threads must be >= 1")
        self.size = threads
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="kvs-futures")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()

    def spawn(self, job: Callable[[], None]) -> None:
        fut = self._executor.submit(job)
        with self._lock:
            self._pending.add(fut)
        fut.add_done_callback(self._done)

    def _done(self, fut: Future[None]) -> None:
        with self._lock:
            self._pending.discard(fut)
        if not fut.cancelled() and fut.exception() is not None:
            log.error("job failed: %r", fut.exception())

    def shutdown(self, timeout: float = 5.0) -> None:
        """Drop queued jobs, wait up to ``timeout`` for running ones (the executor cannot)."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            pending = list(self._pending)
        futures_wait(pending, timeout)


def _join_all(threads: list[threading.Thread], timeout: float) -> None:
    deadline = _now() + timeout
    for t in threads:
        if t is not threading.current_thread():
            t.join(max(0.0, deadline - _now()))


def _now() -> float:
    return time.monotonic()


def make_pool(kind: str, threads: int) -> ThreadPool:
    """The thread pool named by ``--pool``."""
    if kind == "naive":
        return NaiveThreadPool(threads)
    if kind == "shared-queue":
        return SharedQueueThreadPool(threads)
    if kind == "futures":
        return FuturesThreadPool(threads)
    raise ValueError(f"unknown pool {kind!r}")


# --------------------------------------------------------------------------- threaded server


class ThreadedServer:
    """A blocking accept loop handing each connection to a thread pool as one job."""

    def __init__(
        self,
        engine: Engine,
        pool: ThreadPool,
        host: str = "127.0.0.1",
        port: int = 4000,
        max_bulk_len: int = DEFAULT_MAX_BULK_LEN,
        max_array_len: int = DEFAULT_MAX_ARRAY_LEN,
    ) -> None:
        self.handler = CommandHandler(engine)
        self.pool = pool
        self.max_bulk_len, self.max_array_len = max_bulk_len, max_array_len
        self._listener = _listen_socket(host, port)
        sockname = self._listener.getsockname()
        self.address: tuple[str, int] = (sockname[0], sockname[1])
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()

    def serve_forever(self) -> None:
        """Accept until :meth:`shutdown`; then unblock every connection and wait for the pool."""
        sel = selectors.DefaultSelector()
        sel.register(self._listener, selectors.EVENT_READ)
        sel.register(self._wake_r, selectors.EVENT_READ)
        try:
            while not self._stopping.is_set():
                for key, _ in sel.select():
                    if key.fileobj is self._wake_r:
                        break
                    self._accept()
        finally:
            sel.close()
            self._listener.close()
            with self._lock:
                conns = list(self._conns)
            for conn in conns:
                # Unblock recv() in workers; replies being written still go out.
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RD)
            self.pool.shutdown(5.0)
            with self._lock:
                leftover = list(self._conns)  # jobs a pool dropped at shutdown
            for conn in leftover:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)  # unblocks a worker stuck in sendall
                conn.close()
            self._wake_r.close()
            self._wake_w.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. EMFILE: log and keep serving the others
                log.warning("accept failed: %s", exc)
                return
            conn.setblocking(True)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._conns.add(conn)
            try:
                self.pool.spawn(lambda c=conn: self.serve_connection(c))
            except RuntimeError:
                self._forget(conn)
                conn.close()

    def shutdown(self) -> None:
        """Ask serve_forever to stop; safe from signal handlers and other threads."""
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _forget(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.discard(conn)

    def serve_connection(self, conn: socket.socket) -> None:
        """The job: answer requests on ``conn`` until EOF, QUIT or a protocol error."""
        parser = CommandParser(max_bulk_len=self.max_bulk_len, max_array_len=self.max_array_len)
        session = Session(parser)
        handler = self.handler
        try:
            while True:
                try:
                    data = conn.recv(262144)
                except OSError:
                    return
                if not data:
                    return
                parser.feed(data)
                while True:
                    out: list[bytes] = []
                    close, size = run_commands(session, handler, out)
                    if out:
                        try:
                            conn.sendall(b"".join(out))
                        except OSError:
                            return
                    if close:
                        _linger_close(conn)
                        return
                    if size < FLUSH_AT:
                        break
        finally:
            self._forget(conn)
            conn.close()


def _linger_close(conn: socket.socket) -> None:
    """Half-close and drain briefly, so the client reads our error instead of a reset."""
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(LINGER_SECONDS)
        deadline = _now() + LINGER_SECONDS
        while _now() < deadline and conn.recv(65536):
            pass


# --------------------------------------------------------------------------- CLI


def parse_addr(addr: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port``; port 0 asks the OS for a free one (logged at start)."""
    host, sep, port = addr.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise click.BadParameter(f"expected HOST:PORT, got {addr!r}", param_hint="--addr")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def _fmt_addr(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="kvs-server")
@click.option("--addr", default="127.0.0.1:4000", show_default=True, help="HOST:PORT to listen on.")
@click.option(
    "--engine", type=click.Choice(ENGINES), default="kvs", show_default=True, help="Storage engine."
)
@click.option(
    "--dir",
    "data_dir",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Data directory (created if missing).",
)
@click.option(
    "--pool",
    type=click.Choice(POOLS),
    default="asyncio",
    show_default=True,
    help="asyncio event loop, or a Talent Plan thread pool taking one connection per job.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help=(
        "Workers for the shared-queue and futures pools. A connection holds its worker "
        "until it closes, so this bounds concurrent clients [default: 64]."
    ),
)
@click.option(
    "--fsync",
    type=click.Choice(FSYNC_POLICIES),
    default="always",
    show_default=True,
    help="Engine durability policy; with 'always' an acknowledged write is on disk.",
)
@click.option(
    "--offload",
    type=click.Choice(OFFLOAD_MODES),
    default="off",
    show_default=True,
    help=(
        "asyncio pool: run engine calls on --threads worker threads [default threads: 32]. "
        "Measured slower here, even with --fsync always (see AsyncServer)."
    ),
)
@click.option(
    "--max-bulk-len",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_BULK_LEN,
    show_default=True,
    help="Largest bulk string accepted; larger ones close the connection.",
)
def main(
    addr: str,
    engine: str,
    data_dir: str,
    pool: str,
    threads: int | None,
    fsync: str,
    offload: str,
    max_bulk_len: int,
) -> None:
    """Serve a kvs data directory over RESP (redis-cli, redis-py, redis-benchmark)."""
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s kvs-server %(message)s"
    )
    host, port = parse_addr(addr)
    try:
        store = open_engine(data_dir, engine, fsync=fsync)
    except Exception as exc:  # noqa: BLE001 - one line, non-zero, no traceback
        click.echo(f"kvs-server: error: {exc}", err=True)
        sys.exit(1)
    try:
        if pool == "asyncio":
            n = (threads or OFFLOAD_THREADS) if offload == "on" else 0
            _serve_asyncio(store, host, port, engine, data_dir, max_bulk_len, fsync, n)
        else:
            n = threads or DEFAULT_THREADS
            _serve_threaded(
                store,
                make_pool(pool, n),
                host,
                port,
                engine,
                data_dir,
                pool,
                n,
                max_bulk_len,
                fsync,
            )
    except OSError as exc:
        store.close()
        click.echo(
            f"kvs-server: error: cannot listen on {_fmt_addr(host, port)}: {exc.strerror or exc}",
            err=True,
        )
        sys.exit(1)
    except BaseException:
        store.close()
        raise
    store.close()
    log.info("engine closed; bye")


def _banner(engine: str, addr: tuple[str, int], pool: str, data_dir: str, fsync: str) -> None:
    log.info(
        "kvs-server %s engine=%s fsync=%s pool=%s dir=%s listening on %s",
        __version__,
        engine,
        fsync,
        pool,
        os.path.abspath(data_dir),
        _fmt_addr(*addr),
    )


def _serve_asyncio(
    store: Engine,
    host: str,
    port: int,
    engine: str,
    data_dir: str,
    max_bulk_len: int,
    fsync: str,
    offload_threads: int,
) -> None:
    async def run() -> None:
        server = AsyncServer(
            store, host, port, max_bulk_len=max_bulk_len, offload_threads=offload_threads
        )
        addr = await server.start()
        pool = f"asyncio+offload({offload_threads})" if offload_threads else "asyncio"
        _banner(engine, addr, pool, data_dir, fsync)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await server.serve(stop)
        log.info("stopped accepting; closing the engine")

    asyncio.run(run())


def _serve_threaded(
    store: Engine,
    pool: ThreadPool,
    host: str,
    port: int,
    engine: str,
    data_dir: str,
    kind: str,
    threads: int,
    max_bulk_len: int,
    fsync: str,
) -> None:
    try:
        server = ThreadedServer(store, pool, host, port, max_bulk_len=max_bulk_len)
    except OSError:
        pool.shutdown(0.0)
        raise
    _banner(
        engine, server.address, f"{kind}({threads})" if kind != "naive" else kind, data_dir, fsync
    )
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: server.shutdown())
    server.serve_forever()
    log.info("stopped accepting; closing the engine")


if __name__ == "__main__":
    main()
