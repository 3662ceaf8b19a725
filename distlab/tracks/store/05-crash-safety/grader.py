"""Grades crash safety of a log-structured `KvStore`: a crash can tear the last record
(the process died in the middle of its write). The grader finds the file the last
set() grew, cuts a few bytes off its end, and reopens: the store must open, keep every
earlier write, and keep working (new writes must survive the next reopen too).

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
KEYS = 100
LAST = "last-write-".ljust(60, "z")  # the record the crash tears: long enough for any cut
CUTS = (1, 7, 25, 0)  # bytes cut off the end of the log, one scenario each; 0: all of the
# last record but its first byte (a length prefix or header torn too)


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


def _sizes(folder: Path) -> dict[Path, int]:
    return {p: p.stat().st_size for p in folder.rglob("*") if p.is_file()}


def _tear(s: Session, rng: random.Random, cut: int) -> dict[str, str]:
    """Write KEYS keys, then one more set whose record the crash tears `cut` bytes short;
    returns what must survive."""
    model = {f"key{k}": f"value{k}-{rng.randrange(10**6)}" for k in range(KEYS)}
    for key, value in model.items():
        s.call("set", key, value)
    before = _sizes(s.folder)
    s.call("set", "last", LAST)
    grown = [p for p, n in _sizes(s.folder).items() if n > before.get(p, 0)]
    if len(grown) != 1:
        raise Wrong(f"set('last', ...) grew {len(grown)} files in the folder; the grader needs "
                    "exactly one (the log, written and flushed by set() before it returns)")
    s.close()
    log = grown[0]
    size = log.stat().st_size
    with open(log, "r+b") as f:
        f.truncate(size - cut if cut else before.get(log, 0) + 1)
    try:
        s.store = s.open()
    except Wrong as exc:
        raise Wrong(f"{exc} {_torn(cut)}") from None
    return model


def _torn(cut: int) -> str:
    if cut:
        return f"after a crash tore the last record ({cut} byte(s) cut off the log's end)"
    return "after a crash tore the last record to its first byte (the rest cut off)"


def _check(s: Session, model: dict[str, str], cut: int) -> None:
    after = _torn(cut)
    for key, value in model.items():
        s.expect(key, value, after)
    got = s.call("get", "last")
    if got not in (None, LAST):
        raise Wrong(f"get('last') returned {got!r} {after}; expected None (the torn write is "
                    "dropped) or its whole value, never part of it")
    s.call("set", "after", "written-after-the-crash")
    s.call("set", "key0", "overwritten-after-the-crash")
    try:
        s.reopen()
    except Wrong as exc:
        raise Wrong(f"{exc} {after}, then two writes and a reopen (was the torn tail cut off "
                    "before appending?)") from None
    s.expect("after", "written-after-the-crash", f"{after}, then set('after', ...) and a "
             "reopen (was the torn tail cut off before appending?)")
    s.expect("key0", "overwritten-after-the-crash", f"{after}, then set('key0', ...) and a reopen")
    for key, value in list(model.items())[1:]:
        s.expect(key, value, f"{after}, more writes and a reopen")


def _scenario(cut: int) -> Callable[[Session, random.Random], None]:
    def scenario(s: Session, rng: random.Random) -> None:
        _check(s, _tear(s, rng, cut), cut)
    return scenario


SCENARIOS: dict[str, Callable[[Session, random.Random], None]] = {
    (f"last record torn by {cut} byte(s)" if cut else "last record torn to its first byte"):
    _scenario(cut) for cut in CUTS
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
