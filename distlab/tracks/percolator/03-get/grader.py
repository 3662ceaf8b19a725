from __future__ import annotations

import importlib.util
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distlab.systems.percolator.mvcc import WriteKind  # noqa: F401


def _kit() -> Any:
    spec = importlib.util.spec_from_file_location("_percolator_kit", Path(__file__).resolve().parent.parent / "kit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kit = _kit()
Wrong = kit.Wrong
K1, K2, K3, P = b"k1", b"k2", b"k3", b"k1"


def _get(p: Any, key: bytes, version: int, when: str) -> None:
    p.graded("kv_get", {"key": key, "version": version}, f"kv_get of {kit.show(key)} at version {version}{when}")


def committed_values(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.committed(s, K1, b"v40", 40, 42))
    p.setup(lambda s: kit.committed(s, K1, b"v50", 50, 52))
    for v in (41, 42, 51, 100):
        _get(p, K1, v, " (k1 committed v40 at 42, v50 at 52)")
    _get(p, K2, 100, " (k2 never written)")
    p.setup(lambda s: kit.committed(s, K1, None, 60, 62))
    _get(p, K1, 100, " (k1 deleted at 62)")


def lock_below(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.committed(s, K1, b"v40", 40, 42))
    p.setup(lambda s: kit.prewritten(s, K1, P, 90, b"v90", ttl=3000))
    _get(p, K1, 100, " while the transaction at ts 90 holds k1's lock")
    _get(p, K1, 90, " while the transaction at ts 90 holds k1's lock")


def lock_above(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.committed(s, K1, b"v40", 40, 42))
    p.setup(lambda s: kit.prewritten(s, K1, P, 120, b"v120", ttl=3000))
    _get(p, K1, 100, " while the transaction at ts 120 holds k1's lock")


def other_key_locked(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.committed(s, K1, b"v40", 40, 42))
    p.setup(lambda s: kit.prewritten(s, K2, K2, 90, b"x", ttl=3000))
    _get(p, K1, 100, " while k2 (not k1) is locked at ts 90")


def random_reads(p: Any, rng: random.Random) -> None:
    keys = [K1, K2, K3]
    ts = 10
    for _ in range(40):
        key = rng.choice(keys)
        ts += rng.randrange(1, 5)
        if rng.random() < 0.7:
            data = None if rng.random() < 0.2 else f"v{ts}".encode()
            p.setup(lambda s, key=key, data=data, ts=ts: kit.committed(s, key, data, ts, ts + 1))
            ts += 1
    for key in keys:
        if rng.random() < 0.5:
            at = rng.randrange(10, ts + 10)
            p.setup(lambda s, key=key, at=at: kit.prewritten(s, key, K1, at, b"locked", ttl=10))
    for _ in range(200):
        _get(p, rng.choice(keys), rng.randrange(5, ts + 15), " (random history)")


SCENARIOS: dict[str, Callable[[Any, random.Random], None]] = {
    "committed values, a delete, a missing key": committed_values,
    "a lock at or below the read's version blocks it": lock_below,
    "a lock above the read's version does not": lock_above,
    "a lock on another key does not": other_key_locked,
    "200 random reads": random_reads,
}


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    try:
        SCENARIOS[name](kit.Pair(target), random.Random(seed))
    except Wrong as exc:
        return str(exc)
    return None
