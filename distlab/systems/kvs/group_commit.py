"""Group commit for the asyncio server: one fdatasync covers every write appended before it."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["GroupCommit"]


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
