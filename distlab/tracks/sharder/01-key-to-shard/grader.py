"""Grades key2shard against the track's rule: integer k -> k mod 10; a string -> its first
UTF-8 byte mod 10 (0 when empty); True/False as 1/0."""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _kit() -> Any:
    spec = importlib.util.spec_from_file_location("_sharder_kit", Path(__file__).resolve().parent.parent / "kit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kit = _kit()
Wrong = kit.Wrong
NSHARDS = 10


def want(key: Any) -> int:
    if isinstance(key, int):
        return int(key) % NSHARDS
    data = str(key).encode()
    return data[0] % NSHARDS if data else 0


def _expect(fn: Callable[..., Any], keys: list[Any]) -> None:
    for key in keys:
        got = kit.call(f"key2shard({key!r})", fn, key)
        if got != want(key) or isinstance(got, bool) or not isinstance(got, int):
            raise Wrong(f"key2shard({key!r}) returned {got!r}; expected shard {want(key)}")


def integers(fn: Callable[..., Any], rng: random.Random) -> None:
    _expect(fn, [0, 1, 9, 10, 12, 22, 99, 12345] + [rng.randrange(10**6) for _ in range(50)])


def strings(fn: Callable[..., Any], rng: random.Random) -> None:
    words = ["a", "b", "k1", "key", "zebra", "", "0", "9x", "shard", "élan"]
    _expect(fn, words + ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(5))
                         for _ in range(30)])


def every_shard(fn: Callable[..., Any], rng: random.Random) -> None:
    used = {kit.call(f"key2shard({k})", fn, k) for k in range(100)}
    if used != set(range(NSHARDS)):
        raise Wrong(f"keys 0..99 landed in shards {sorted(used)}; expected every shard 0..9 to be used")
    _expect(fn, list(range(100)))


SCENARIOS: dict[str, Callable[[Callable[..., Any], random.Random], None]] = {
    "integer keys: k mod 10": integers,
    "string keys: first byte mod 10": strings,
    "keys 0..99 use every shard": every_shard,
}


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    try:
        SCENARIOS[name](target, random.Random(seed))  # type: ignore[arg-type]
    except Wrong as exc:
        return str(exc)
    return None
