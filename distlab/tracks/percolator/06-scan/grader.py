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

K0 = b"k0"


def _scan(p: Any, start: bytes, limit: int, version: int, end: bytes | None = None, what: str = "") -> None:
    req = {"start_key": start, "limit": limit, "version": version}
    if end is not None:
        req["end_key"] = end
    upto = f" to {kit.show(end)}" if end is not None else ""
    p.graded("kv_scan", req, f"scan from {kit.show(start) if start else 'the start'}{upto} with limit {limit} "
             f"at version {version}{what}", check_store=False)


def _store(s: Any) -> None:
    kit.committed(s, K1, b"v1-10", 10, 12)
    kit.committed(s, K1, b"v1-20", 20, 22)
    kit.committed(s, K2, b"v2-15", 15, 16)
    kit.committed(s, K3, b"v3-11", 11, 13)
    kit.committed(s, K3, None, 30, 31)
    kit.committed(s, b"k4", b"v4-5", 5, 6)


def versions(p: Any, rng: random.Random) -> None:
    p.setup(_store)
    for v in (14, 21, 25, 40):
        _scan(p, b"", 10, v)


def limits(p: Any, rng: random.Random) -> None:
    p.setup(_store)
    for limit in (0, 1, 2, 3):
        _scan(p, b"", limit, 40, what=" (k3 deleted at 31)")
    _scan(p, b"k1\x00", 10, 40, what=" (a start key between k1 and k2)")
    _scan(p, K1, 10, 40, end=K3)


def locked_key(p: Any, rng: random.Random) -> None:
    p.setup(_store)
    p.setup(lambda s: kit.prewritten(s, K2, K2, 35, b"new", ttl=3000))
    _scan(p, b"", 10, 40, what=" while the transaction at ts 35 holds k2's lock")
    _scan(p, b"", 10, 30, what=" while the transaction at ts 35 holds k2's lock")


def lock_only_key(p: Any, rng: random.Random) -> None:
    p.setup(_store)
    p.setup(lambda s: kit.prewritten(s, K0, K0, 35, b"first", ttl=3000))
    _scan(p, b"", 10, 40, what=" while the transaction at ts 35 inserts k0 (its only trace is a lock)")


def random_scans(p: Any, rng: random.Random) -> None:
    keys = [b"a", b"b", b"ba", b"c", b"abcdefgh", b"abcdefgh\x00", b"d"]
    ts = 10
    for _ in range(30):
        key = rng.choice(keys)
        ts += rng.randrange(1, 4)
        data = None if rng.random() < 0.25 else f"v{ts}".encode()
        p.setup(lambda s, key=key, data=data, ts=ts: kit.committed(s, key, data, ts, ts + 1))
        ts += 1
    for key in rng.sample(keys, 2):
        at = rng.randrange(10, ts + 10)
        p.setup(lambda s, key=key, at=at: kit.prewritten(s, key, key, at, b"locked", ttl=10))
    for _ in range(60):
        start = rng.choice(keys + [b""])
        end = rng.choice([None, None, rng.choice(keys)])
        _scan(p, start, rng.randrange(1, 6), rng.randrange(5, ts + 15), end, " (random history)")


SCENARIOS: dict[str, Callable[[Any, random.Random], None]] = {
    "versions at several timestamps": versions,
    "limit, start key and end key": limits,
    "a locked key is reported, not skipped": locked_key,
    "a key whose only trace is a lock": lock_only_key,
    "60 random scans": random_scans,
}


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    try:
        SCENARIOS[name](kit.Pair(target), random.Random(seed))
    except Wrong as exc:
        return str(exc)
    return None
