"""Mutant: spawn() starts a new thread per job (a naive pool): nothing bounds how many run at once."""

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
        threading.Thread(target=self._run, args=(job,), daemon=True).start()

    def _run(self, job: Job) -> None:
        try:
            job()
        except Exception:  # noqa: BLE001
            traceback.print_exc()

    def shutdown(self) -> None:
        """Run every job queued so far, then stop the workers and wait for them to end."""
        for _ in self.workers:
            self.jobs.put(None)  # behind every queued job: each worker takes one and stops
        for worker in self.workers:
            worker.join()
