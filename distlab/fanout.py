"""Fan independent work items (seeds, tasks, map inputs) out over processes, on this
machine or on a Dask cluster, and get the results back in item order.

One seam for every campaign-like command, so a run that outgrows one machine moves to an
existing distributed engine (dask.distributed) instead of a home-made one:

    run_all(fn, items, scheduler=None, workers=2)            # this machine's processes
    run_all(fn, items, scheduler="dask", workers=4)          # a Dask LocalCluster of 4
    run_all(fn, items, scheduler="tcp://10.0.0.5:8786")      # a running Dask scheduler

Every item's result depends only on the item (a seed decides a simulated run), so the
results are the same whichever backend ran them; only the wall time changes. Worker
processes must hash strings as the caller does (`PYTHONHASHSEED`, which the `distlab`
console script pins): set ones are checked on Dask workers, and a mismatch is an error
rather than a silently different replay. Dask is optional (`pip install distlab[cluster]`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

LOCAL_NAMES = ("", "local")
"""--scheduler values meaning this machine's processes (multiprocessing), today's default."""
DASK_LOCAL_NAMES = ("dask", "local-dask")
"""--scheduler values meaning a Dask LocalCluster started (and stopped) for this run."""

SCHEDULER_HELP = ("Where the work runs: 'local' (this machine's processes, the default), "
                  "'dask' (a Dask cluster started on this machine for the run) or a Dask "
                  "scheduler's address (tcp://HOST:8786) whose workers have distlab installed.")

CONNECT_TIMEOUT = 5.0
"""Seconds to reach a scheduler (and for it to have a worker) before giving up."""
LOCAL_START_TIMEOUT = 60.0
"""Seconds for a LocalCluster's worker processes to start (slow on a loaded machine)."""


class FanoutError(Exception):
    """The work cannot be fanned out as asked (no dask, scheduler unreachable, workers
    that would replay differently): a one-line message for the user."""


def backend(scheduler: str | None) -> str:
    """'local', 'dask-local' or 'dask' (an address) for a --scheduler value."""
    name = (scheduler or "").strip()
    if name.lower() in LOCAL_NAMES:
        return "local"
    if name.lower() in DASK_LOCAL_NAMES:
        return "dask-local"
    return "dask"


def describe(scheduler: str | None, workers: int) -> str:
    """A few words for a progress line: where the items run."""
    kind = backend(scheduler)
    if kind == "local":
        return f"{workers} local process(es)" if workers > 1 else "this process"
    if kind == "dask-local":
        return f"a Dask LocalCluster of {workers} worker(s)"
    return f"the Dask scheduler at {scheduler}"


def run_all(fn: Callable[[T], R], items: Iterable[T], *, scheduler: str | None = None,
            workers: int = 1, on_result: Callable[[int, R], None] | None = None,
            start_method: str | None = None) -> list[R]:
    """`[fn(item) for item in items]`, computed in parallel where `scheduler` says.

    `fn` must be a module-level function (it is pickled to other processes). `on_result`
    is called in this process as each result arrives (index, result), in completion
    order, so a long campaign can print as it goes; the returned list is in item order.
    `workers` is the number of local processes or LocalCluster workers; a real
    scheduler uses the workers it has. `start_method` picks multiprocessing's
    ("spawn", "fork") for the local backend. Raises FanoutError with a one-line message
    when Dask is missing or the scheduler cannot be reached."""
    todo: Sequence[T] = list(items)
    if not todo:
        return []  # no cluster started for nothing
    kind = backend(scheduler)
    if kind == "local":
        return _run_local(fn, todo, workers, on_result, start_method)
    return _run_dask(fn, todo, None if kind == "dask-local" else str(scheduler).strip(),
                     workers, on_result)


def _run_local(fn: Callable[[T], R], items: Sequence[T], workers: int,
               on_result: Callable[[int, R], None] | None, start_method: str | None) -> list[R]:
    results: list[Any] = [None] * len(items)
    if workers <= 1 or len(items) <= 1:
        for i, item in enumerate(items):
            results[i] = fn(item)
            if on_result is not None:
                on_result(i, results[i])
        return results
    ctx = multiprocessing.get_context(start_method) if start_method else None
    with ProcessPoolExecutor(max_workers=min(workers, len(items)), mp_context=ctx) as pool:
        index = {pool.submit(fn, item): i for i, item in enumerate(items)}
        for future in as_completed(index):
            i = index[future]
            results[i] = future.result()
            if on_result is not None:
                on_result(i, results[i])
    return results


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise FanoutError("Dask is not installed: pip install 'distlab[cluster]' "
                          "(or dask[distributed]) to use --scheduler dask or an address") from None
    return distributed


def _run_dask(fn: Callable[[T], R], items: Sequence[T], address: str | None, workers: int,
              on_result: Callable[[int, R], None] | None) -> list[R]:
    distributed = _import_distributed()
    _ship_by_value(fn)
    cluster = None
    procs: list[subprocess.Popen[bytes]] = []
    try:
        if address is None:
            # a scheduler here, and workers as `dask worker --no-nanny` processes: a nanny
            # (LocalCluster's workers have one) replaces PYTHONHASHSEED=0 by its own seed
            # (":0": an HTTP port of its own, as 8787 may be another cluster's)
            cluster = distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=":0",
                                               silence_logs=logging.ERROR)
            procs = [_start_worker(cluster.scheduler_address, i) for i in range(max(1, workers))]
            client = distributed.Client(cluster)
            _wait_for_workers(client, len(procs), "the LocalCluster", LOCAL_START_TIMEOUT)
        else:
            try:
                client = distributed.Client(address, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError, ValueError) as exc:
                raise FanoutError(f"cannot reach the Dask scheduler at {address}: "
                                  f"{_first_line(exc)}") from None
        with client:
            if address is not None:
                _wait_for_workers(client, 1, address, CONNECT_TIMEOUT)
            _check_hash_seed(client, address or "the LocalCluster")
            import cloudpickle

            # each call travels as one cloudpickle blob: dask pickles task arguments by
            # reference where it can, and a worker cannot import a script's classes
            blobs = [cloudpickle.dumps((fn, item)) for item in items]
            futures = client.map(_call_pickled, blobs, pure=False)
            return _gather(distributed, client, futures, on_result, address or "the LocalCluster")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if cluster is not None:
            cluster.close()


def _call_pickled(blob: bytes) -> bytes:
    """On a worker: run one `(fn, item)` and send its result back pickled the same way."""
    import cloudpickle

    fn, item = cloudpickle.loads(blob)
    return cloudpickle.dumps(fn(item))


def _gather(distributed: Any, client: Any, futures: list[Any],
            on_result: Callable[[int, Any], None] | None, where: str) -> list[Any]:
    """Results in item order, passed to `on_result` as they come. A worker without a
    nanny that dies (a task killed it) is not replaced: when none is left, say so rather
    than wait forever."""
    import cloudpickle

    index = {f.key: i for i, f in enumerate(futures)}
    results: list[Any] = [None] * len(futures)
    pending = distributed.as_completed(futures)
    last_look = time.monotonic()
    got = 0
    while not pending.is_empty():
        done = pending.next_batch(block=False)
        if not done:
            if time.monotonic() - last_look >= 2.0:
                last_look = time.monotonic()
                if not client.scheduler_info(n_workers=-1).get("workers"):
                    raise FanoutError(f"no Dask worker is left at {where} ({len(futures)} "
                                      f"item(s), {got} done): a "
                                      "task may have killed its worker; see the workers' logs")
            time.sleep(0.02)
            continue
        for future in done:
            i = index[future.key]
            results[i] = cloudpickle.loads(future.result())
            got += 1
            if on_result is not None:
                on_result(i, results[i])
            future.release()
    return results


def _start_worker(address: str, i: int) -> subprocess.Popen[bytes]:
    """One single-threaded Dask worker process with this process's environment (its log
    on stderr when DISTLAB_FANOUT_DEBUG is set, e.g. to see why a worker died)."""
    return subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", address, "--no-nanny",
         "--nthreads", "1", "--no-dashboard", "--name", f"fanout-{i}",
         "--death-timeout", "60"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=None if os.environ.get("DISTLAB_FANOUT_DEBUG") else subprocess.DEVNULL)


def _wait_for_workers(client: Any, n: int, where: str, timeout: float) -> None:
    try:
        client.wait_for_workers(n, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        hint = f" (start some with `dask worker {where} --no-nanny`)" if n == 1 else ""
        raise FanoutError(f"{where} has no {'' if n == 1 else f'{n} '}Dask worker(s) after "
                          f"{timeout:g} s{hint}: {_first_line(exc)}") from None


HASH_PROBE = "distlab.fanout: same seed, same replay"


def _check_hash_seed(client: Any, where: str) -> None:
    """Workers must hash strings as this process does, or node code iterating over a set
    of strings replays differently there. Checked when this process's PYTHONHASHSEED is
    set (the `distlab` command pins it); otherwise local workers differ from one another
    too, and there is no single replay to keep."""
    mine = os.environ.get("PYTHONHASHSEED")
    if mine is None:
        return
    theirs = client.run(_hash_probe)
    wrong = sorted(w for w, (h, _) in theirs.items() if h != hash(HASH_PROBE))
    if wrong:
        seed = theirs[wrong[0]][1]
        raise FanoutError(f"{len(wrong)} Dask worker(s) of {where} hash strings differently from "
                          f"this run (PYTHONHASHSEED={mine} here, {seed} on {wrong[0]}): start "
                          f"them as `PYTHONHASHSEED={mine} dask worker ADDRESS --no-nanny` (a nanny "
                          "replaces 0 by a seed of its own)")


def _hash_probe() -> tuple[int, str | None]:
    return hash(HASH_PROBE), os.environ.get("PYTHONHASHSEED")


def _ship_by_value(fn: Callable[..., Any]) -> None:
    """Code outside installed packages (a benchmarks/*.py script imported by path, a test
    module) is not importable on a worker: send its module's code along instead. distlab
    itself must be installed on the workers."""
    name = getattr(fn, "__module__", None)
    if not name or name == "__main__" or name.split(".")[0] == "distlab":
        return  # __main__ already travels by value
    module = sys.modules.get(name)
    file = getattr(module, "__file__", None)
    if module is None or not file:
        return
    where = Path(file).resolve()
    if any(where.is_relative_to(Path(root).resolve()) for root in {sys.prefix, sys.base_prefix}):
        return  # an installed package (or the standard library): the workers have it too
    import cloudpickle

    cloudpickle.register_pickle_by_value(module)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
