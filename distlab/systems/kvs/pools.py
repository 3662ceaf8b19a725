"""Talent Plan's thread pools and the blocking server that hands them one connection per job.

A blocking accept loop gives each connection to the pool as one job, so at most
``--threads`` connections are served at once (the rest wait in the queue). A job that
raises is logged and the worker keeps going, so the pool never shrinks.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import selectors
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from typing import Protocol

from distlab.systems.kvs.commands import FLUSH_AT, CommandHandler, Session, run_commands
from distlab.systems.kvs.engines import Engine
from distlab.systems.kvs.net import linger_close, listen_socket
from distlab.systems.kvs.resp import DEFAULT_MAX_ARRAY_LEN, DEFAULT_MAX_BULK_LEN, CommandParser

__all__ = [
    "DEFAULT_THREADS",
    "FuturesThreadPool",
    "NaiveThreadPool",
    "SharedQueueThreadPool",
    "ThreadPool",
    "ThreadedServer",
    "make_pool",
]

log = logging.getLogger("kvs-server")

# Thread pools serve one connection per worker; redis-benchmark alone opens 50.
DEFAULT_THREADS = 64


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
        self._listener = listen_socket(host, port)
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
                        linger_close(conn)
                        return
                    if size < FLUSH_AT:
                        break
        finally:
            self._forget(conn)
            conn.close()
