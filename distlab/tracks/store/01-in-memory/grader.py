"""Grades an in-memory `KvStore` class (Talent Plan project 1): set, get, remove.

`run` builds a fresh store with `target()` per scenario and says, in one sentence,
the first call whose result was wrong (or what it raised, and where)."""

from __future__ import annotations

import random
import sysconfig
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = str(Path(__file__).resolve())  # the grader's own frames are not the learner's
LIBRARY = tuple(sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platstdlib"))


def _raised(call: str, exc: BaseException) -> str:
    """One sentence: which call raised what, at the learner's line if we can tell."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename != HERE and not f.filename.startswith(LIBRARY)]
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{call} raised {type(exc).__name__}: {exc}{where}"


class Wrong(Exception):
    """The store answered wrongly: the message is the reason shown to the learner."""


def _call(store: Any, method: str, *args: str) -> Any:
    call = f"{method}({', '.join(map(repr, args))})"
    try:
        return getattr(store, method)(*args)
    except Exception as exc:  # noqa: BLE001 - the learner's bug, reported as a sentence
        raise Wrong(_raised(call, exc)) from None


def _expect(store: Any, key: str, want: str | None, after: str) -> None:
    try:
        got = _call(store, "get", key)
    except Wrong as exc:
        raise Wrong(f"{exc} {after}") from None
    if got != want:
        raise Wrong(f"get({key!r}) returned {got!r} {after}; expected {want!r}")


def get_stored_value(store: Any, rng: random.Random) -> None:
    _call(store, "set", "key1", "value1")
    _call(store, "set", "key2", "value2")
    _expect(store, "key1", "value1", "after set('key1', 'value1')")
    _expect(store, "key2", "value2", "after set('key2', 'value2')")


def overwrite_value(store: Any, rng: random.Random) -> None:
    _call(store, "set", "key1", "value1")
    _call(store, "set", "key1", "value2")
    _expect(store, "key1", "value2", "after set('key1', 'value1') then set('key1', 'value2')")


def get_non_existent_value(store: Any, rng: random.Random) -> None:
    _call(store, "set", "key1", "value1")
    _expect(store, "key2", None, "though key2 was never set")


def remove_key(store: Any, rng: random.Random) -> None:
    _call(store, "set", "key1", "value1")
    _call(store, "remove", "key1")
    _expect(store, "key1", None, "after remove('key1')")


def separate_stores(store: Any, rng: random.Random) -> None:
    _call(store, "set", "mine", "first-store")
    other = type(store)()
    got = _call(other, "get", "mine")
    if got is not None:
        raise Wrong(f"get('mine') on a second KvStore() returned {got!r}, set only in the first; expected "
                    "None: each store has its own data (a dict made in __init__, not one on the class)")
    _expect(store, "mine", "first-store", "after a second KvStore() was made")


def many_keys(store: Any, rng: random.Random) -> None:
    model: dict[str, str] = {}
    for step in range(2000):
        key = f"key{rng.randrange(100)}"
        if rng.random() < 0.2 and key in model:
            _call(store, "remove", key)
            del model[key]
        else:
            value = f"value{step}"
            _call(store, "set", key, value)
            model[key] = value
    for i in range(100):
        key = f"key{i}"
        _expect(store, key, model.get(key), "after 2,000 random sets and removes")


SCENARIOS: dict[str, Callable[[Any, random.Random], None]] = {
    "two stores are separate": separate_stores,
    "get stored value": get_stored_value,
    "overwrite value": overwrite_value,
    "get non-existent value": get_non_existent_value,
    "remove key": remove_key,
    "many keys": many_keys,
}


def scenarios() -> list[str]:
    """The graded scenarios, in the order they run."""
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    """Run one scenario on a fresh `target()`; None if it passed, else the reason."""
    if not callable(target):
        return f"{target!r} is not a class: the grader builds a store with KvStore()"
    try:
        store = target()
    except Exception as exc:  # noqa: BLE001
        return _raised("KvStore()", exc)
    try:
        SCENARIOS[name](store, random.Random(seed))
    except Wrong as exc:
        return str(exc)
    return None
