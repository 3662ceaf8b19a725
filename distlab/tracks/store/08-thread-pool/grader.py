"""Grades a thread pool (Talent Plan TP 201 project 4): `ThreadPool(threads)`,
`spawn(job)`, `shutdown()`. Each scenario runs in a child process (procgrade's
run_isolated), so a worker that never ends or a shutdown that waits forever costs a
bounded time and a one-line reason; every wait inside is bounded too."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from distlab.tracks.procgrade import Failure, run_isolated

WAIT = 5.0  # seconds any job or call may take before it counts as stuck


class Counter:
    def __init__(self) -> None:
        self.n, self.lock = 0, threading.Lock()

    def add(self) -> None:
        with self.lock:
            self.n += 1


def _call(what: str, f: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Run a pool method on a helper thread: Failure if it raises or does not return."""
    box: dict[str, Any] = {}

    def go() -> None:
        try:
            box["value"] = f()
        except Exception as exc:  # noqa: BLE001 - the learner's bug, as a sentence
            box["error"] = exc

    t = threading.Thread(target=go, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise Failure(f"{what} did not return within {timeout:g} s")
    if "error" in box:
        exc = box["error"]
        raise Failure(f"{what} raised {type(exc).__name__}: {exc}")
    return box.get("value")


def _pool(cls: Any, threads: int) -> Any:
    return _call(f"ThreadPool({threads})", lambda: cls(threads))


def _at_once(pool: Any, n: int) -> int:
    """Spawn n jobs that wait for each other; how many were running at the same time."""
    barrier = threading.Barrier(n)
    arrived = Counter()

    def job() -> None:
        arrived.add()
        try:
            barrier.wait(WAIT)
        except threading.BrokenBarrierError:
            pass

    for _ in range(n):
        _call("spawn(job)", lambda: pool.spawn(job))
    deadline = time.monotonic() + WAIT + 1
    while arrived.n < n and time.monotonic() < deadline:
        time.sleep(0.01)
    return arrived.n if arrived.n < n else n


def runs_every_job(cls: Any) -> None:
    pool, done = _pool(cls, 4), Counter()
    for _ in range(800):
        _call("spawn(job)", lambda: pool.spawn(done.add))
    _call("shutdown()", pool.shutdown)
    if done.n != 800:
        raise Failure(f"800 jobs were spawned on a pool of 4 threads but {done.n} had run when "
                      "shutdown() returned; expected all 800")


def threads_run_at_once(cls: Any) -> None:
    pool = _pool(cls, 4)
    ran = _at_once(pool, 4)
    if ran < 4:
        raise Failure(f"4 jobs that wait for each other were spawned on a pool of 4 threads, but only "
                      f"{ran} ran at the same time (within {WAIT:g} s): the pool must run jobs on its 4 threads")
    _call("shutdown()", pool.shutdown)


def bounded(cls: Any) -> None:
    pool, done, lock = _pool(cls, 3), Counter(), threading.Lock()
    active, peak, threads, go = [0], [0], set(), threading.Event()

    def job() -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            threads.add(threading.get_ident())
        go.wait(WAIT)  # the first jobs hold their threads until all 12 are spawned
        time.sleep(0.02)
        with lock:
            active[0] -= 1
        done.add()

    for _ in range(12):
        _call("spawn(job)", lambda: pool.spawn(job))
    deadline = time.monotonic() + 0.3  # time for every job that can start to start
    while peak[0] < 12 and time.monotonic() < deadline:
        time.sleep(0.01)
    go.set()
    _call("shutdown()", pool.shutdown)
    if peak[0] > 3:
        raise Failure(f"12 jobs of 20 ms ran {peak[0]} at once on a pool of 3 threads: a pool bounds the "
                      "threads, so at most 3 run at once and the rest wait in the queue")
    if len(threads) > 3:
        raise Failure(f"12 jobs ran on {len(threads)} different threads on a pool of 3: start the "
                      "workers once and reuse them")
    if done.n != 12:
        raise Failure(f"12 jobs were spawned but {done.n} had run when shutdown() returned")


def survives_raising_jobs(cls: Any) -> None:
    pool, done = _pool(cls, 4), Counter()

    def bad() -> None:
        raise RuntimeError("a job's bug")

    for _ in range(8):
        _call("spawn(job)", lambda: pool.spawn(bad))
    ran = _at_once(pool, 4)
    if ran < 4:
        raise Failure(f"after 8 jobs raised exceptions, a pool of 4 threads ran only {ran} of 4 jobs "
                      f"at once (within {WAIT:g} s): a job's exception must not end its worker thread")
    for _ in range(100):
        _call("spawn(job)", lambda: pool.spawn(done.add))
    _call("shutdown()", pool.shutdown)
    if done.n != 100:
        raise Failure(f"after 8 jobs raised exceptions, {done.n} of 100 later jobs had run when "
                      "shutdown() returned")


def shutdown_joins(cls: Any) -> None:
    before = set(threading.enumerate())
    pool, done = _pool(cls, 2), Counter()

    def job() -> None:
        time.sleep(0.02)
        done.add()

    for _ in range(10):
        _call("spawn(job)", lambda: pool.spawn(job))
    _call("shutdown()", pool.shutdown)
    if done.n != 10:
        raise Failure(f"shutdown() returned when {done.n} of 10 queued jobs (20 ms each, on 2 threads) "
                      "had run: it must let every queued job run, then join the workers")
    left = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    if left:
        raise Failure(f"shutdown() returned while {len(left)} of the pool's threads were still running: "
                      "tell each worker to stop, then join() it")


SCENARIOS: dict[str, Callable[[Any], None]] = {
    "runs every job": runs_every_job,
    "4 jobs at once on 4 threads": threads_run_at_once,
    "at most 3 at once on 3 threads": bounded,
    "jobs that raise keep the workers": survives_raising_jobs,
    "shutdown runs the queue and joins": shutdown_joins,
}


def scenarios() -> list[str]:
    """The graded scenarios, in the order they run."""
    return list(SCENARIOS)


def run_here(name: str, target: object, seed: int) -> str | None:
    """One scenario, in this process (the child run_isolated starts)."""
    try:
        SCENARIOS[name](target)
    except Failure as exc:
        return str(exc)
    return None


def run(name: str, target: object, seed: int) -> str | None:
    """One scenario in a child process; None if it passed, else the reason."""
    if not callable(target):
        return f"{target!r} is not a class: the grader makes a pool with ThreadPool(threads)"
    return run_isolated(__file__, name, target, seed, timeout=30,
                        stuck="a pool call or a worker never ended")
