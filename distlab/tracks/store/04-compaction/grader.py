"""Grades compaction of a log-structured `KvStore`: values and removals survive it (and a
reopen after it), and dead bytes are counted across reopens so a store that is
reopened often still compacts.

Each scenario gets a fresh temporary folder; the reason for a failure is one sentence
naming the call that went wrong (or what it raised, at the learner's line)."""

from __future__ import annotations

import gc
import random
import sysconfig
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = str(Path(__file__).resolve())  # the grader's own frames are not the learner's
LIBRARY = tuple(sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platstdlib"))
KEYS = 200
VALUE = 100  # characters per value
LIMIT = 3 << 19  # 1.5 MiB: the most the folder may hold after about 2 MB of overwrites


class Wrong(Exception):
    """The store answered wrongly: the message is the reason shown to the learner."""


def _raised(call: str, exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename != HERE and not f.filename.startswith(LIBRARY)]
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{call} raised {type(exc).__name__}: {exc}{where}"


class Session:
    """The store under test in one folder, reopened on demand."""

    def __init__(self, cls: Any, folder: Path) -> None:
        self.cls, self.folder = cls, folder
        self.store = self.open()

    def open(self) -> Any:
        try:
            return self.cls.open(str(self.folder))
        except Exception as exc:  # noqa: BLE001 - the learner's bug, as a sentence
            raise Wrong(_raised("KvStore.open(folder)", exc)) from None

    def reopen(self) -> None:
        """Close (if the store has close()) and open the same folder again."""
        self.close()
        self.store = self.open()

    def close(self) -> None:
        close = getattr(self.store, "close", None)
        if callable(close):
            self.call("close")
        self.store = None
        gc.collect()  # a store without close() releases its files when collected

    def call(self, method: str, *args: str) -> Any:
        text = f"{method}({', '.join(repr(a) if len(a) < 20 else repr(a[:17] + '...') for a in args)})"
        try:
            return getattr(self.store, method)(*args)
        except Exception as exc:  # noqa: BLE001
            raise Wrong(_raised(text, exc)) from None

    def expect(self, key: str, want: str | None, after: str) -> None:
        try:
            got = self.call("get", key)
        except Wrong as exc:
            raise Wrong(f"{exc} {after}") from None
        if got != want:
            shown = got if not isinstance(got, str) or len(got) < 20 else got[:17] + "..."
            raise Wrong(f"get({key!r}) returned {shown!r} {after}; expected "
                        f"{want if want is None or len(want) < 20 else want[:17] + '...'!r}")


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _value(rng: random.Random, round_: int) -> str:
    return f"{round_:04d}{rng.randrange(10**9):09d}".ljust(VALUE, "x")


def _overwrite(s: Session, rng: random.Random, model: dict[str, str], rounds: int,
               first: int = 0) -> None:
    for round_ in range(first, first + rounds):
        for key in list(model):
            value = _value(rng, round_)
            s.call("set", key, value)
            model[key] = value


def values_survive_compaction(s: Session, rng: random.Random) -> None:
    model = {f"key{k}": "" for k in range(KEYS)}
    for round_ in range(100):  # every key read after every round: just after each compaction too
        _overwrite(s, rng, model, 1, first=round_)
        for key, value in model.items():
            s.expect(key, value, f"after {(round_ + 1) * KEYS:,} overwrites (and the compactions "
                     "they caused)")
    size = _size(s.folder)
    if size > LIMIT:  # else the reads above proved nothing about compaction
        raise Wrong(f"the folder holds {size:,} bytes after 20,000 overwrites of {KEYS} keys "
                    f"({KEYS * VALUE:,} bytes live) with the store open all along; the limit is "
                    f"{LIMIT:,}: does compaction run while the store is open, not only on open?")
    s.reopen()
    for key, value in model.items():
        s.expect(key, value, "after compactions and reopening the folder")


def removals_survive_compaction(s: Session, rng: random.Random) -> None:
    for k in range(KEYS):
        s.call("set", f"gone{k}", f"old{k}")
    for k in range(KEYS):
        s.call("remove", f"gone{k}")
    model = {f"key{k}": "" for k in range(KEYS)}
    _overwrite(s, rng, model, 60)
    for k in range(0, KEYS, 7):
        s.expect(f"gone{k}", None, f"after remove('gone{k}') and the compactions that followed")
    s.reopen()
    for k in range(0, KEYS, 7):
        s.expect(f"gone{k}", None, f"after remove('gone{k}'), compactions and reopening the "
                 "folder (did compaction drop the removal but keep an older set?)")
    for key, value in model.items():
        s.expect(key, value, "after compactions and reopening the folder")


def dead_bytes_counted_across_reopens(s: Session, rng: random.Random) -> None:
    model = {f"key{k}": "" for k in range(KEYS)}
    for session in range(10):
        _overwrite(s, rng, model, 10, first=session * 10)
        s.reopen()
    size = _size(s.folder)
    if size > LIMIT:
        raise Wrong(f"the folder holds {size:,} bytes after 20,000 overwrites of {KEYS} keys "
                    f"written 2,000 between reopens ({KEYS * VALUE:,} bytes live); the limit is "
                    f"{LIMIT:,}: are the dead bytes found while replaying the log on open "
                    "counted towards the next compaction?")
    for key, value in model.items():
        s.expect(key, value, "after ten sessions of overwrites and reopens")


SCENARIOS: dict[str, Callable[[Session, random.Random], None]] = {
    "values survive compaction": values_survive_compaction,
    "removals survive compaction": removals_survive_compaction,
    "dead bytes counted across reopens": dead_bytes_counted_across_reopens,
}


def scenarios() -> list[str]:
    """The graded scenarios, in the order they run."""
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    """Run one scenario on `target.open(tmpdir)`; None if it passed, else the reason."""
    if not callable(getattr(target, "open", None)):
        return (f"{getattr(target, '__name__', target)!r} has no open(path): the grader "
                "opens a store with KvStore.open(folder) (a classmethod)")
    with tempfile.TemporaryDirectory(prefix="distlab-kvs-") as tmp:
        session = None
        try:
            session = Session(target, Path(tmp) / "db")
            SCENARIOS[name](session, random.Random(seed))
        except Wrong as exc:
            return str(exc)
        finally:
            if session is not None and session.store is not None:
                try:
                    session.close()
                except Wrong:
                    pass
    return None
