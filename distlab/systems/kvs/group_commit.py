"""Group commit for the asyncio server: one fdatasync covers every write appended before it.

Two modes. The default, as Redis's ``appendfsync always``: the fsync runs on the loop thread
at the end of the loop turn, after the turn's SETs were appended and before any of the
turn's replies leave; the loop (every client) waits for the disk meanwhile. With
``threaded=True`` (kvs-server ``--fsync-thread``) the fsync runs in a helper thread and
the loop goes on serving reads while it hangs, at the price of two thread hand-offs per
fsync. Measured with redis-benchmark's defaults against redis-server's appendfsync always
(``benchmarks/kvs_bench.py --tests durable,durable-thread``, 2 shared CPUs, load 0.4-3.9):
SET 0.75-0.84x on the loop vs 0.53-0.73x threaded in the same runs, GET 0.78-1.13x either
way. Both servers group alike (~27 SETs per fdatasync, counted with ``perf stat`` and
``strace`` for kvs-server and redis-server), and on the loop the replies leave with the
turn's other replies (one write per connection) with no thread handing the result back.
The fsync itself was the rest of the gap: the log grew with every turn, so each fdatasync
also committed the file's new length. With the log zero-filled ahead (``prealloc`` in
:mod:`~distlab.systems.kvs.store`) it flushes data only (~200 -> ~140 us alone on this
disk), and the same benchmark's SET went from 0.72-0.77x to 0.96-1.14x in alternating runs
of the old and new code (load 2.0-3.3).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["GroupCommit"]


class GroupCommit:
    """One fdatasync at a time for all connections: on the loop, or in a helper thread.

    With the kvs engine under ``--fsync always`` the asyncio server appends writes at once
    (``KvStore.defer_syncs``) and holds a connection's replies until the writes behind
    them are durable. Requests that arrive while an fsync runs are covered by the next
    one, so under N busy clients one fsync acknowledges up to N writes, and no reply to
    a write leaves before its record is on disk.

    An fsync starts on the loop's next turn, not at once: by then the requests already
    read have appended their writes, and the replies of the last fsync are out, so one
    fsync covers what every client sent meanwhile (as Redis fsyncs its AOF once per
    event-loop turn). Started at once, the clients split into two halves taking turns;
    measured with redis-benchmark's 50 clients: 25 writes per fsync then, 39 now, and
    fewer appends stalled behind the page the fsync is writing out."""

    def __init__(self, store: Any, threaded: bool = False) -> None:
        self.store = store
        self.threaded = threaded
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="kvs-fsync") if threaded else None
        self.waiting: list[tuple[Any, Callable[[BaseException | None], None]]] = []
        self.running: asyncio.Future[None] | None = None
        self.fsyncs = 0
        self._scheduled = False  # a _start is queued on the loop

    def wait(
        self, point: Any, callback: Callable[[BaseException | None], None], schedule: bool = True
    ) -> None:
        """Call ``callback(None)`` once the write ending at ``point`` is durable, or
        ``callback(error)`` if the fsync failed. A plain callback, not a future per request:
        under 50 clients the futures and their scheduled callbacks were a good part of a
        SET's cost. ``schedule=False``: the caller calls :meth:`start_now` itself."""
        self.waiting.append((point, callback))
        if schedule and self.running is None and not self._scheduled:
            self._scheduled = True  # after the requests already read: one fsync for them all
            asyncio.get_running_loop().call_soon(self._start)

    def start_now(self) -> None:
        """Start the fsync for the waiting writes now, unless one runs (then the next one
        starts when it ends). For the server at the end of a loop turn, when every request
        it read has been appended: waiting for the next turn would add nothing."""
        if self.running is None and self.waiting:
            self._start()

    def _start(self) -> None:
        self._scheduled = False
        if self.running is not None or not self.waiting:
            return
        batch, self.waiting = self.waiting, []
        newest: dict[int, Any] = {}  # per log file, the furthest point asked for
        for point, _ in batch:
            f = id(point[0])
            if f not in newest or point[1] > newest[f][1]:
                newest[f] = point
        loop = asyncio.get_running_loop()
        if self.executor is None:  # on the loop, as Redis: every client waits for the disk
            error: BaseException | None = None
            try:
                self._sync(list(newest.values()))
            except Exception as exc:  # noqa: BLE001 - told to each waiting write
                error = exc
            self._finish(error, batch)
            return
        self.running = loop.run_in_executor(self.executor, self._sync, list(newest.values()))
        self.running.add_done_callback(lambda done: self._done(done, batch))

    def _sync(self, points: list[Any]) -> None:
        for point in points:
            self.store.wait_durable(point)

    def _done(
        self,
        done: asyncio.Future[None],
        batch: list[tuple[Any, Callable[[BaseException | None], None]]],
    ) -> None:
        self.running = None
        self._finish(asyncio.CancelledError() if done.cancelled() else done.exception(), batch)

    def _finish(
        self,
        error: BaseException | None,
        batch: list[tuple[Any, Callable[[BaseException | None], None]]],
    ) -> None:
        self.fsyncs += 1
        if self.waiting and not self._scheduled:  # the next fsync: once these replies are out
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._start)
        loop = asyncio.get_running_loop()
        for _, callback in batch:
            try:
                callback(error)
            except Exception as exc:  # noqa: BLE001 - one connection's bug must not strand the rest
                loop.call_exception_handler(
                    {"message": "group commit callback failed", "exception": exc}
                )

    async def drain(self, timeout: float) -> None:
        """Wait (up to ``timeout`` s) until no fsync runs and none is waiting to."""
        deadline = asyncio.get_running_loop().time() + timeout
        if self.executor is None:  # writes waiting for a scheduled fsync: now (their
            while self.waiting and asyncio.get_running_loop().time() < deadline:
                self._start()  # replies may let more requests run and write)
            return
        while self.running is not None:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return
            await asyncio.wait([self.running], timeout=remaining)
            await asyncio.sleep(0)  # let _done run its callbacks (they may start another)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True)
