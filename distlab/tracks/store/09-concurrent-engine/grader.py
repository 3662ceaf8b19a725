"""Grades a log-structured `KvStore` shared by threads (Talent Plan TP 201 project 4):
`KvStore.open(folder)`, then set/get/remove called from 8 threads at once, with values
big enough that compactions run in the middle. Each writer thread owns its keys, so it
knows what its own reads must return and the grader knows every key's final value;
readers of other threads' keys check a value was written for that key, whole.

Scenarios run in a child process (procgrade's run_isolated) with a tiny thread switch
interval, so races show up within seconds and a deadlock is a reason, not a hang."""

from __future__ import annotations

import gc
import random
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distlab.tracks.procgrade import Failure, run_isolated

THREADS = 8
WAIT = 20.0  # seconds the threads may take in all


def value_for(key: str, writer: int, step: int, size: int) -> str:
    """A value that says which key it was written for, and is whole only if its end is there."""
    head = f"{key}|w{writer}|{step}|"
    return head + "x" * max(size - len(head) - 1, 0) + "$"


def check_value(key: str, got: Any) -> str | None:
    """Why `got` cannot be a value written for `key` (None if it can)."""
    if got is None:
        return None
    if not isinstance(got, str):
        return f"a {type(got).__name__}, not a str"
    if not got.startswith(key + "|"):
        other = got.split("|", 1)[0]
        return f"a value written for {other!r}" if "|" in got else f"{got[:40]!r}, not a value written for it"
    if not got.endswith("$"):
        return "a value cut short"
    return None


class Run:
    """One scenario's store and threads; the first failure (per thread) is kept."""

    def __init__(self, cls: Any, folder: Path) -> None:
        self.cls, self.folder = cls, folder
        self.store = self.open()
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def open(self) -> Any:
        try:
            return self.cls.open(str(self.folder))
        except Exception as exc:  # noqa: BLE001 - the learner's bug, as a sentence
            raise Failure(f"KvStore.open(folder) raised {type(exc).__name__}: {exc}") from None

    def fail(self, who: str, what: str) -> None:
        with self.lock:
            self.errors.append(f"{who}: {what}, while {THREADS - 1} other threads used the store")

    def call(self, who: str, method: str, *args: str) -> Any:
        try:
            return getattr(self.store, method)(*args)
        except KeyError:
            if method == "remove":
                raise
            self.fail(who, f"{method}({args[0]!r}) raised KeyError")
        except Exception as exc:  # noqa: BLE001
            self.fail(who, f"{method}({args[0]!r}) raised {type(exc).__name__}: {exc}")
        raise _Stop

    def threads(self, work: list[Callable[[], None]]) -> None:
        def guard(job: Callable[[], None]) -> None:
            try:
                job()
            except _Stop:
                pass

        ts = [threading.Thread(target=guard, args=(job,), daemon=True) for job in work]
        for t in ts:
            t.start()
        for t in ts:
            t.join(WAIT)
        if any(t.is_alive() for t in ts):
            raise Failure(f"{sum(t.is_alive() for t in ts)} of {len(ts)} threads were still inside the store "
                          f"after {WAIT:g} s: a deadlock (a lock taken twice, or never released)?")
        if self.errors:
            raise Failure(self.errors[0])

    def reopen(self) -> None:
        close = getattr(self.store, "close", None)
        if callable(close):
            try:
                close()
            except Exception as exc:  # noqa: BLE001
                raise Failure(f"close() raised {type(exc).__name__}: {exc}") from None
        self.store = None
        gc.collect()
        self.store = self.open()

    def expect_final(self, model: dict[str, str | None], when: str) -> None:
        for key, want in model.items():
            try:
                got = self.store.get(key)
            except Exception as exc:  # noqa: BLE001
                raise Failure(f"{when}, get({key!r}) raised {type(exc).__name__}: {exc}") from None
            if got != want:
                shown = "None" if got is None else f"{got[:40]!r}..."
                wanted = "None (its last call was a remove)" if want is None else f"{want[:40]!r}..."
                raise Failure(f"{when}, get({key!r}) returned {shown}; expected {wanted}, the last "
                              "value its thread wrote: a write was lost while threads shared the store")


class _Stop(Exception):
    """Ends a thread after its first failure."""


def _writer(run: Run, w: int, keys: list[str], steps: int, size: int, rng: random.Random,
            model: dict[str, str | None]) -> Callable[[], None]:
    """A thread that sets, gets and removes its own keys: its reads must see its writes."""
    def work() -> None:
        who = f"thread {w}"
        for step in range(steps):
            key = rng.choice(keys)
            roll = rng.random()
            if roll < 0.6:
                value = value_for(key, w, step, size)
                run.call(who, "set", key, value)
                model[key] = value
                got = run.call(who, "get", key)
                if got != value:
                    bad = check_value(key, got)
                    run.fail(who, f"get({key!r}) right after its set returned "
                             + (bad if bad else f"{got[:30]!r}..., an older value"))
                    return
            elif roll < 0.8 and model.get(key) is not None:
                try:
                    run.call(who, "remove", key)
                except KeyError:
                    run.fail(who, f"remove({key!r}) raised KeyError though the key was set")
                    return
                model[key] = None
            else:
                got = run.call(who, "get", key)
                if got != model.get(key):
                    bad = check_value(key, got)
                    want = "None" if model.get(key) is None else "its last value"
                    run.fail(who, f"get({key!r}) returned " + (bad if bad else f"{str(got)[:30]!r}") +
                             f"; expected {want}")
                    return
    return work


def _reader(run: Run, r: int, keys: list[str], steps: int, rng: random.Random) -> Callable[[], None]:
    """A thread reading everyone's keys: any value must be one written for that key, whole."""
    def work() -> None:
        who = f"reader thread {r}"
        for _ in range(steps):
            key = rng.choice(keys)
            bad = check_value(key, run.call(who, "get", key))
            if bad:
                run.fail(who, f"get({key!r}) returned {bad}")
                return
    return work


def _hammer(cls: Any, seed: int, writers: int, keys_each: int, steps: int, size: int,
            compacts: bool = False) -> None:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="distlab-kvs-threads-") as tmp:
        run = Run(cls, Path(tmp) / "db")
        try:
            model: dict[str, str | None] = {}
            own = [[f"w{w}k{i}" for i in range(keys_each)] for w in range(writers)]
            every = [k for keys in own for k in keys]
            work = [_writer(run, w, own[w], steps, size, random.Random(rng.random()), model)
                    for w in range(writers)]
            work += [_reader(run, r, every, steps, random.Random(rng.random()))
                     for r in range(THREADS - writers)]
            run.threads(work)
            run.expect_final(model, "after the threads finished")
            if compacts:
                held = sum(p.stat().st_size for p in run.folder.rglob("*") if p.is_file())
                if held > 1.5 * 2**20:  # about 3 MB of values were set on 40 keys
                    raise Failure(f"the store's folder holds {held:,} bytes after about 3 MB of values were "
                                  "set on 40 keys (60 KB live): no compaction ran, so this scenario could not "
                                  "test compaction under threads (compact at 1 MiB of dead bytes)")
            run.reopen()
            run.expect_final(model, "after the threads finished and the store was reopened")
        finally:
            close = getattr(run.store, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:  # noqa: BLE001, S110 - already graded
                    pass


def own_keys(cls: Any, seed: int) -> None:
    _hammer(cls, seed, writers=8, keys_each=10, steps=300, size=100)


def readers_and_writers(cls: Any, seed: int) -> None:
    _hammer(cls, seed, writers=4, keys_each=10, steps=400, size=200)


def compaction_under_load(cls: Any, seed: int) -> None:
    # 4 writers x 800 steps x ~60% sets of 1.5 KB on 40 keys: about 3 MB of dead bytes
    _hammer(cls, seed, writers=4, keys_each=10, steps=800, size=1500, compacts=True)


SCENARIOS: dict[str, Callable[[Any, int], None]] = {
    "8 threads, each on its own keys": own_keys,
    "4 writers and 4 readers": readers_and_writers,
    "compactions while 8 threads work": compaction_under_load,
}


def scenarios() -> list[str]:
    """The graded scenarios, in the order they run."""
    return list(SCENARIOS)


def run_here(name: str, target: object, seed: int) -> str | None:
    """One scenario, in this process (the child run_isolated starts)."""
    sys.setswitchinterval(1e-5)  # switch threads often, so races show up within the run
    try:
        SCENARIOS[name](target, seed)
    except Failure as exc:
        return str(exc)
    return None


def run(name: str, target: object, seed: int) -> str | None:
    """One scenario in a child process; None if it passed, else the reason."""
    if not hasattr(target, "open"):
        return f"{target!r} has no open(): the grader opens a store with KvStore.open(folder)"
    return run_isolated(__file__, name, target, seed, timeout=60,
                        stuck="threads in set/get/remove never returned (a deadlock?)")
