"""Your thread pool: ThreadPool(threads), spawn(job), shutdown()."""

from __future__ import annotations

import threading
from collections.abc import Callable


class ThreadPool:
    """`threads` worker threads, started once, running the jobs given to spawn()."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        # TODO: a queue of jobs and `threads` workers taking jobs from it

    def spawn(self, job: Callable[[], None]) -> None:
        """TODO: queue `job` for a worker and return at once. (Running it on a new thread
        each time works, but is not a pool: the grader checks at most `threads` run at once.)"""
        threading.Thread(target=job).start()

    def shutdown(self) -> None:
        """TODO: let every queued job run, then stop the workers and join them."""
