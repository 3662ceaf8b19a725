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


def ts(ms: int, logical: int = 0) -> int:
    """A TSO timestamp: milliseconds << 18 | logical."""
    return ms << 18 | logical


LOCK_TS = ts(1000, 5)


def _check(p: Any, current_ms: int, what: str, lock_ts: int = LOCK_TS) -> None:
    p.graded("kv_check_txn_status", {"primary_key": K1, "lock_ts": lock_ts, "current_ts": ts(current_ms, 9)},
             f"check_txn_status of k1's transaction at ts {lock_ts} (physical {lock_ts >> 18} ms) at "
             f"{current_ms} ms{what}")


def _locked(s: Any) -> None:
    kit.prewritten(s, K1, K1, LOCK_TS, b"v", ttl=3000)


def alive(p: Any, rng: random.Random) -> None:
    p.setup(_locked)
    _check(p, 1500, ", its lock's TTL 3000 ms")
    _check(p, 4000, ", its lock's TTL 3000 ms, exactly at the end of it")


def expired(p: Any, rng: random.Random) -> None:
    p.setup(_locked)
    _check(p, 4001, ", its lock's TTL 3000 ms")


def committed(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.committed(s, K1, b"v", LOCK_TS, ts(1100)))
    _check(p, 9000, " (it committed at 1100 ms)")


def rolled_back(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.write(s, K1, LOCK_TS, LOCK_TS, WriteKind.ROLLBACK))
    _check(p, 9000, " (it was rolled back)")


def never_prewritten(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.committed(s, K1, b"old", ts(10), ts(20)))
    _check(p, 1200, " (k1 was never prewritten by it)")


def other_lock(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.prewritten(s, K1, K1, ts(900), b"other", ttl=3000))
    _check(p, 1200, " (k1 is locked by the transaction at 900 ms instead)")


SCENARIOS: dict[str, Callable[[Any, random.Random], None]] = {
    "a live lock is left alone": alive,
    "an expired lock is rolled back": expired,
    "a committed transaction": committed,
    "a rolled-back transaction": rolled_back,
    "a primary never prewritten": never_prewritten,
    "the primary locked by another transaction": other_lock,
}


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    try:
        SCENARIOS[name](kit.Pair(target), random.Random(seed))
    except Wrong as exc:
        return str(exc)
    return None
