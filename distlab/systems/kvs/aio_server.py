"""The default kvs-server: one asyncio event loop, one :class:`asyncio.Protocol` per connection.

The loop is uvloop's (libuv) when installed, and requests are parsed by hiredis's C reader
(:class:`~distlab.systems.kvs.resp.FastCommandParser`), as redis-py parses replies: on
redis-benchmark's one-request-per-read traffic those were most of the per-request cost
(``benchmarks/kvs_bench.py`` has the figures). Without them the stock loop and the
pure-Python parser serve, with the same behaviour.

Engine calls run in the loop thread: they take microseconds (kvs, lmdb, rocksdb, sqlite
reads), and a thread hop per request costs more than it saves (measured; ``offload_threads``
runs them on threads instead, see :class:`AsyncServer`). On the kvs engine under
``--fsync always`` replies wait for :class:`~distlab.systems.kvs.group_commit.GroupCommit`
(an fsync on the loop at the end of the turn, or in a helper thread).

Like Redis, the server works in loop turns: GET and SET skip the generic dispatch, replies
are held until the end of the turn and leave with one write per connection (so the clients
find them together instead of being woken once per reply), and without group commit every
connection's single SET of the turn goes to the log in one append just before (see
:meth:`AsyncServer.defer_set`). On redis-benchmark's defaults this took a SET from ~6.9 to
~4.8 us of server CPU, a GET from ~5.7 to ~4.9 us (measured with ``/proc/PID/stat``).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from time import perf_counter
from typing import Any

from distlab.systems.kvs.commands import (
    FLUSH_AT,
    OK,
    CommandHandler,
    Session,
    protocol_error_reply,
    run_commands,
)
from distlab.systems.kvs.engines import Engine
from distlab.systems.kvs.group_commit import GroupCommit
from distlab.systems.kvs.net import LINGER_SECONDS, listen_socket
from distlab.systems.kvs.resp import (
    DEFAULT_MAX_ARRAY_LEN,
    DEFAULT_MAX_BULK_LEN,
    CommandParser,
    ProtocolError,
    encode_error,
    make_command_parser,
)

__all__ = ["MAX_BATCH", "OFFLOAD_MODES", "OFFLOAD_THREADS", "AsyncServer", "new_event_loop"]

log = logging.getLogger("kvs-server")

# Offload mode: most commands one connection may hand to the executor in one go.
MAX_BATCH = 256
OFFLOAD_MODES = ("off", "on")
OFFLOAD_THREADS = 32


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop (libuv) when installed, else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class _RespProtocol(asyncio.Protocol):
    """One client connection on the event loop; honours write back-pressure."""

    def __init__(self, server: AsyncServer) -> None:
        self.server = server
        self.session = Session(server.new_parser())
        self.parser = self.session.parser
        self.execute = server.handler.execute
        self.pipeline = server.handler.execute_pipeline
        self.offload = server.executor is not None
        self.transport: asyncio.Transport | None = None
        self.paused = False
        self.closing = False
        self.busy = False  # a batch runs on the executor, or waits for its fsync
        self.eof = False  # the client half-closed its side
        self.group = server.group_commit
        self.out: list[bytes] = []  # replies held for the end of this loop turn
        # GET and SET may skip the handler's dispatch: with the plain handler, or with the
        # metrics one (InstrumentedHandler), which is then told what they did (timed).
        handler = server.handler
        self.timed = getattr(handler, "record_named", None)
        self.fast = type(handler) is CommandHandler or self.timed is not None
        self.get = handler.engine.get
        self.defer_sets = self.fast and server.set_many is not None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return  # lingering after a protocol error: discard
        parser = self.parser
        if self.busy or self.paused or self.offload:
            parser.feed(data)
            if self.offload:
                if not self.busy and not self.paused:
                    self._dispatch()
                elif self.busy and parser.buffered > FLUSH_AT and self.transport is not None:
                    self.transport.pause_reading()  # bound what piles up behind a batch
            elif self.busy and parser.buffered > FLUSH_AT and self.transport is not None:
                self.transport.pause_reading()  # replies wait for an fsync: bound the backlog
            return
        # Hot path: whole requests in one read (redis-benchmark sends one, or -P of them).
        try:
            cmds = parser.take(data)
        except ProtocolError as exc:
            self._send_and_close(protocol_error_reply(self.session, exc))
            return
        if cmds is None:
            self._process()
            return
        if len(cmds) == 1 and self.fast:
            cmd = cmds[0]
            if len(cmd) == 2 and cmd[0] == b"GET":
                timed = self.timed
                t0 = perf_counter() if timed is not None else 0.0
                try:
                    value = self.get(cmd[1])
                except Exception:  # noqa: BLE001 - execute words (and counts) the error
                    reply = self.execute(cmd, self.session)[0]
                else:
                    reply = (
                        self.session.nil
                        if value is None
                        else b"$%d\r\n%b\r\n" % (len(value), value)
                    )
                    if timed is not None:
                        timed(b"GET", perf_counter() - t0, False)
                out = self.out  # self._reply(reply), inlined: this is most of the traffic
                if not out:
                    server = self.server
                    server.dirty.append(self)
                    if not server.turn_scheduled:
                        server.schedule_turn()
                out.append(reply)
                return
            if len(cmd) == 3 and cmd[0] == b"SET" and self.defer_sets:
                self.server.defer_set(self, cmd[1], cmd[2])
                return
        group = self.group
        before = group.store.last_write if group is not None else None
        if len(cmds) == 1:
            reply, close = self.execute(cmds[0], self.session)
            done = 1
        else:
            replies, close, done = self.pipeline(cmds, self.session)
            reply = b"".join(replies)
            if done < len(cmds) and not close:  # FLUSH_AT bytes of replies: the rest waits
                parser.push_back_all(cmds[done:])
        if group is not None and group.store.last_write is not before:
            self._after_fsync(group.store.last_write, [reply], close)  # then _process
        elif close:
            self._send_and_close(reply)
        elif done < len(cmds):
            self._write(reply)
            self._process()
        else:
            self._reply(reply)

    # -- replies leave at the end of the loop turn, as Redis writes them before it sleeps:
    # the clients then find many replies at once instead of being woken for each.

    def _reply(self, reply: bytes) -> None:
        """Hold ``reply`` for the end of this loop turn (AsyncServer._end_turn)."""
        if not self.out:
            self.server.dirty.append(self)
            if not self.server.turn_scheduled:
                self.server.schedule_turn()
        self.out.append(reply)

    def _write(self, data: bytes) -> None:
        """Write now, after whatever is held for the end of the turn (order is kept)."""
        if self.out:
            self.out.append(data)
            data = b"".join(self.out)
            self.out = []
        self.transport.write(data)  # type: ignore[union-attr]

    def _flush(self) -> None:
        """Hand what is held to the transport (the end of the turn, or before closing)."""
        out = self.out
        if out:
            self.out = []
            if self.transport is not None:
                self.transport.write(out[0] if len(out) == 1 else b"".join(out))

    def _sets_done(self, reply: bytes) -> None:
        """The SET deferred to the end of the turn was written (OK) or failed (-ERR)."""
        self.busy = False
        if self.transport is None:
            return  # the client left; the write stands
        self._reply(reply)
        if not self.closing:
            self._after_sets()

    def _after_sets(self) -> None:
        """After a deferred SET's reply: run what arrived behind it, close after a half-close."""
        if self.parser.pending:
            if not self.eof:  # more arrived meanwhile: answer it in order
                self.transport.resume_reading()  # type: ignore[union-attr]
            self._process()
        if self.eof:
            self._finish_eof()

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
                self._write(b"".join(out) if len(out) > 1 else out[0])
            if close:
                self._close_gracefully()
                return
            if size < FLUSH_AT:
                return  # parser drained; wait for more bytes

    # -- group commit: replies to a batch that wrote leave once its last write is durable

    def _after_fsync(
        self, point: Any, out: list[bytes], close: bool, schedule: bool = True
    ) -> None:
        self.busy = True
        assert self.group is not None
        self.group.wait(point, lambda error: self._durable(error, out, close), schedule)

    def _durable(self, error: BaseException | None, out: list[bytes], close: bool) -> None:
        self.busy = False
        transport = self.transport
        if transport is None:
            return  # the client left; its writes stand
        if error is not None:
            log.error("connection %d: fsync failed (%s); closing it without replies",
                      self.session.id, error)
            transport.abort()  # an acknowledgement now would be a lie
            return
        self._write(b"".join(out))
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
        self._write(reply)
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
            self._write(reply)
            self._close_gracefully()

    def _close_gracefully(self) -> None:
        """Send what is buffered, half-close, and drop the link after a short linger."""
        transport = self.transport
        if transport is None:
            return
        self._flush()
        self.closing = True
        if transport.can_write_eof():
            transport.write_eof()
            asyncio.get_running_loop().call_later(LINGER_SECONDS, transport.close)
        else:
            transport.close()

    def eof_received(self) -> bool:
        """The client half-closed: answer what it already sent, then close our side too."""
        self.eof = True
        self._flush()  # replies held for the end of the turn go before the close
        # Keep the transport while a batch runs or paused work remains; _finish_eof closes.
        return self.busy or (self.paused and self.parser.pending)

    def _finish_eof(self) -> None:
        if self.eof and not self.busy and self.transport is not None and not self.closing:
            self._flush()
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
    (one fsync per loop turn for every write of the turn): SET went from ~3.4k to ~20k+
    req/s on the same benchmark, GET unchanged. By default that fsync runs on the loop at
    the end of the turn, as Redis's, so a hanging disk stalls every client;
    ``fsync_thread=True`` runs it in a helper thread and reads go on meanwhile.
    """

    def __init__(
        self,
        engine: Engine,
        host: str = "127.0.0.1",
        port: int = 4000,
        max_bulk_len: int = DEFAULT_MAX_BULK_LEN,
        max_array_len: int = DEFAULT_MAX_ARRAY_LEN,
        offload_threads: int = 0,
        fsync_thread: bool = False,
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
            self.group_commit = GroupCommit(engine, threaded=fsync_thread)
        self.handler = CommandHandler(engine)
        # Single SETs wait for the end of the loop turn and go to the log together (one
        # append), before their replies leave or their group fsync starts: see defer_set.
        self.set_many = getattr(engine, "set_many", None) if self.executor is None else None
        self.dirty: list[_RespProtocol] = []  # connections holding replies for the turn's end
        self.turn_scheduled = False
        self.deferred_sets: list[tuple[bytes, bytes]] = []
        self.deferred_setters: list[_RespProtocol] = []
        self.host, self.port = host, port
        self.max_bulk_len, self.max_array_len = max_bulk_len, max_array_len
        self.connections: set[_RespProtocol] = set()
        self.address: tuple[str, int] | None = None
        self._server: asyncio.Server | None = None

    def schedule_turn(self) -> None:
        self.turn_scheduled = True
        asyncio.get_running_loop().call_soon(self._end_turn)

    def defer_set(self, proto: _RespProtocol, key: bytes, value: bytes) -> None:
        """``SET key value`` from ``proto``, written at the end of this loop turn with every
        other SET of the turn in one append (as Redis writes its AOF buffer once per turn).
        The connection is busy until then: what it sends meanwhile waits, so its commands
        still run in order. The reply leaves only after the append returned, so an
        acknowledged SET is in the OS as before (a process crash loses nothing), and under
        group commit only after the fsync that covers it. SETs of other connections are
        not acknowledged yet, so a GET that misses them is in order."""
        proto.busy = True
        self.deferred_sets.append((key, value))
        self.deferred_setters.append(proto)
        if not self.turn_scheduled:
            self.schedule_turn()

    def _end_turn(self) -> None:
        """Write the turn's SETs in one append, then every held reply, one write each.
        Under group commit the SETs' replies wait for the fsync, started here at once."""
        if self.deferred_sets:
            pairs, self.deferred_sets = self.deferred_sets, []
            setters, self.deferred_setters = self.deferred_setters, []
            group = self.group_commit
            point = None
            t0 = perf_counter()
            try:
                self.set_many(pairs)  # type: ignore[misc]
                reply = OK
                if group is not None:
                    point = group.store.last_write
            except Exception as exc:  # noqa: BLE001 - none was written: say so to each
                log.warning("SET failed: %s", exc)
                reply = encode_error(f"ERR {exc or type(exc).__name__}")
            timed = getattr(self.handler, "record_named", None)
            if timed is not None:  # metrics: each SET is given the append's average
                timed(b"SET", (perf_counter() - t0) / len(pairs), reply is not OK, len(pairs))
            if point is not None and group is not None and group.executor is None:
                # The fsync on the loop, now, as Redis's beforeSleep: the replies are then
                # held (dirty) as without group commit and leave below, after it.
                group.wait(point, lambda error: self._sets_durable(setters, error), False)
                group.start_now()
            else:
                for proto in setters:
                    try:
                        if point is not None:  # still busy: the reply leaves after the fsync
                            proto._after_fsync(point, [reply], False, schedule=False)
                        else:
                            proto._sets_done(reply)  # holds its reply (dirty): flushed below
                    except Exception as exc:  # noqa: BLE001 - one must not strand the rest
                        asyncio.get_running_loop().call_exception_handler(
                            {"message": "deferred SET reply failed", "exception": exc}
                        )
                if point is not None:
                    group.start_now()  # type: ignore[union-attr]
        self.turn_scheduled = False
        dirty, self.dirty = self.dirty, []
        for proto in dirty:  # proto._flush(), inlined
            out = proto.out
            if out:
                proto.out = []
                transport = proto.transport
                if transport is not None:
                    transport.write(out[0] if len(out) == 1 else b"".join(out))

    def _sets_durable(self, setters: list[_RespProtocol], error: BaseException | None) -> None:
        """The fsync on the loop covering the turn's SETs ended: hold each reply for the
        end of the turn, or, if it failed, drop each connection without one."""
        dirty = self.dirty
        for proto in setters:
            try:
                if error is not None:
                    proto._durable(error, [], False)  # aborts: no acknowledgement
                    continue
                # proto._sets_done(OK), inlined for the common case: nothing more to run
                proto.busy = False
                if proto.transport is None:
                    continue  # the client left; the write stands
                out = proto.out
                if not out:
                    dirty.append(proto)
                    if not self.turn_scheduled:
                        self.schedule_turn()
                out.append(OK)
                if not proto.closing and (proto.eof or proto.parser.pending):
                    proto._after_sets()
            except Exception as exc:  # noqa: BLE001 - one connection must not strand the rest
                asyncio.get_running_loop().call_exception_handler(
                    {"message": "deferred SET reply failed", "exception": exc}
                )

    def new_parser(self) -> CommandParser:
        return make_command_parser(self.max_bulk_len, self.max_array_len)

    async def start(self) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        # Bind ourselves: a busy port then raises a plain OSError with a one-line strerror.
        sock = listen_socket(self.host, self.port)
        self._server = await loop.create_server(lambda: _RespProtocol(self), sock=sock)
        sockname = self._server.sockets[0].getsockname()
        self.address = (sockname[0], sockname[1])
        return self.address

    async def stop(self) -> None:
        """Stop accepting and close every connection; requests already read were answered."""
        if self._server is not None:
            self._server.close()
        self._end_turn()  # SETs and replies held for the end of the turn go out first
        if self.inflight:  # let running batches finish and answer before closing
            await asyncio.wait(list(self.inflight), timeout=10)
        if self.group_commit is not None:  # and writes waiting for their fsync
            await self.group_commit.drain(10)
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
