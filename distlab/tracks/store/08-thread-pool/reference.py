"""A thread pool as in Talent Plan TP 201 project 4's SharedQueueThreadPool: N worker
threads started once, all taking jobs from one shared queue. A job that raises is
reported and its worker carries on, so the pool never shrinks; shutdown() lets every
queued job run, then ends the workers and joins them."""

from __future__ import annotations

import queue
import threading
import traceback
from collections.abc import Callable

Job = Callable[[], None]


class ThreadPool:
    """`threads` long-lived workers sharing one queue of jobs."""

    def __init__(self, threads: int) -> None:
        if threads < 1:
            raise ValueError("a pool needs at least one thread")
        self.jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self.workers = [threading.Thread(target=self._work, name=f"pool-worker-{i}", daemon=True)
                        for i in range(threads)]
        for worker in self.workers:
            worker.start()

    def _work(self) -> None:
        while (job := self.jobs.get()) is not None:  # None: the signal to stop
            try:
                job()
            except Exception:  # noqa: BLE001 - one job's failure must not end the worker
                traceback.print_exc()

    def spawn(self, job: Job) -> None:
        """Queue `job` to run on some worker; returns at once."""
        self.jobs.put(job)

    def shutdown(self) -> None:
        """Run every job queued so far, then stop the workers and wait for them to end."""
        for _ in self.workers:
            self.jobs.put(None)  # behind every queued job: each worker takes one and stops
        for worker in self.workers:
            worker.join()
