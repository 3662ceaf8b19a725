"""Grades a log-structured `KvStore` (Talent Plan project 2): `KvStore.open(folder)`,
set/get/remove, remove of a missing key raising KeyError, everything surviving a
reopen of the same folder, and compaction keeping the folder small under overwrites.

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
COMPACT_KEYS = 200
COMPACT_ROUNDS = 100
COMPACT_VALUE = 100  # characters per value: about 2 MB of values written in all
COMPACT_LIMIT = 3 << 19  # 1.5 MiB: the folder's size after the overwrites


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


def get_stored_value(s: Session, rng: random.Random) -> None:
    s.call("set", "key1", "value1")
    s.call("set", "key2", "value2")
    s.expect("key1", "value1", "after set('key1', 'value1')")
    s.expect("key2", "value2", "after set('key2', 'value2')")
    s.reopen()
    s.expect("key1", "value1", "after reopening the folder")
    s.expect("key2", "value2", "after reopening the folder")


def overwrite_value(s: Session, rng: random.Random) -> None:
    s.call("set", "key1", "value1")
    s.call("set", "key1", "value2")
    s.expect("key1", "value2", "after set('key1', 'value1') then set('key1', 'value2')")
    s.reopen()
    s.expect("key1", "value2", "after the overwrite and reopening the folder")
    s.call("set", "key1", "value3")
    s.expect("key1", "value3", "after reopening and set('key1', 'value3')")


def get_non_existent_value(s: Session, rng: random.Random) -> None:
    s.call("set", "key1", "value1")
    s.expect("key2", None, "though key2 was never set")
    s.reopen()
    s.expect("key2", None, "after reopening, though key2 was never set")


def remove_key(s: Session, rng: random.Random) -> None:
    s.call("set", "key1", "value1")
    s.call("remove", "key1")
    s.expect("key1", None, "after remove('key1')")
    s.reopen()
    s.expect("key1", None, "after remove('key1') and reopening the folder (the removal was not logged?)")


def remove_non_existent_key(s: Session, rng: random.Random) -> None:
    try:
        s.store.remove("key1")
    except KeyError:
        return
    except Exception as exc:  # noqa: BLE001
        raise Wrong(_raised("remove('key1') of a key never set", exc)
                    + "; expected KeyError") from None
    raise Wrong("remove('key1') of a key never set returned normally; expected KeyError "
                "(Talent Plan's 'Key not found')")


def reopen_many_keys(s: Session, rng: random.Random) -> None:
    model: dict[str, str] = {}
    for round_ in range(3):
        for step in range(1000):
            key = f"key{rng.randrange(100)}"
            if rng.random() < 0.2 and key in model:
                s.call("remove", key)
                del model[key]
            else:
                value = f"value{round_}-{step}"
                s.call("set", key, value)
                model[key] = value
        s.reopen()
        for i in range(100):
            key = f"key{i}"
            s.expect(key, model.get(key), f"after {1000 * (round_ + 1)} random sets and "
                     f"removes and {round_ + 1} reopen(s)")


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def compaction(s: Session, rng: random.Random) -> None:
    model: dict[str, str] = {}
    for round_ in range(COMPACT_ROUNDS):
        for k in range(COMPACT_KEYS):
            key = f"key{k}"
            value = f"{round_:04d}{rng.randrange(10**9):09d}".ljust(COMPACT_VALUE, "x")
            s.call("set", key, value)
            model[key] = value
    written = COMPACT_ROUNDS * COMPACT_KEYS * COMPACT_VALUE
    size = _size(s.folder)
    if size > COMPACT_LIMIT:
        raise Wrong(f"the folder holds {size:,} bytes after {COMPACT_ROUNDS * COMPACT_KEYS:,} "
                    f"overwrites of {COMPACT_KEYS} keys ({written:,} bytes of values, "
                    f"{COMPACT_KEYS * COMPACT_VALUE:,} of them live); the limit is "
                    f"{COMPACT_LIMIT:,}: is the log ever compacted?")
    for key, value in model.items():
        s.expect(key, value, f"after {COMPACT_ROUNDS * COMPACT_KEYS:,} overwrites (and compactions)")
    s.reopen()
    for key, value in model.items():
        s.expect(key, value, "after compactions and reopening the folder")


ODD = {  # keys and values a text or a hand-rolled format gets wrong
    "empty": "",
    "café": "naïve — ☕ 東京",
    "lines": "line one\nline two\n",
    "tabs": "a\tb\tc",
    "quotes": 'say "hi" \\ {"op": "rm"}',
    "after": "an ASCII value after the others",
}


def odd_values(s: Session, rng: random.Random) -> None:
    for key, value in ODD.items():
        s.call("set", key, value)
    for key, value in ODD.items():
        s.expect(key, value, "after setting values with empty, non-ASCII, newline, tab and "
                 "quote characters")
    s.reopen()
    for key, value in ODD.items():
        s.expect(key, value, "after setting values with empty, non-ASCII, newline, tab and "
                 "quote characters and reopening the folder (are offsets counted in bytes, "
                 "and is every character kept?)")


SCENARIOS: dict[str, Callable[[Session, random.Random], None]] = {
    "get stored value": get_stored_value,
    "overwrite value": overwrite_value,
    "get non-existent value": get_non_existent_value,
    "remove key": remove_key,
    "remove non-existent key": remove_non_existent_key,
    "reopen with many keys": reopen_many_keys,
    "values of any characters": odd_values,
    "compaction": compaction,
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
