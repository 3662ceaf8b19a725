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


def _pw(p: Any, keys: list[bytes], start: int, op: str = "put") -> None:
    p.given("kv_prewrite", {"mutations": [{"op": op, "key": k, "value": b"v" + k} for k in keys],
                            "primary_lock": keys[0], "start_version": start, "lock_ttl": 3000})


def _commit(p: Any, keys: list[bytes], start: int, commit: int, what: str = "") -> None:
    names = ", ".join(kit.show(k) for k in keys)
    p.graded("kv_commit", {"keys": keys, "start_version": start, "commit_version": commit},
             f"commit of {names} (start ts {start}, commit ts {commit}){what}")


def one_key(p: Any, rng: random.Random) -> None:
    _pw(p, [K1], 100)
    _commit(p, [K1], 100, 110, " after its prewrite")


def two_keys(p: Any, rng: random.Random) -> None:
    _pw(p, [K1, K2], 100)
    _commit(p, [K1], 100, 110, " after the prewrite of k1 and k2")
    _commit(p, [K2], 100, 110, " after the prewrite of k1 and k2 and the commit of k1")


def kinds(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.committed(s, K1, b"old", 10, 12))
    _pw(p, [K1], 100, "del")
    _pw(p, [K2], 100, "lock")
    _commit(p, [K1, K2], 100, 110, " after a prewrite that deletes k1 and locks k2")


def twice(p: Any, rng: random.Random) -> None:
    _pw(p, [K1, K2], 100)
    _commit(p, [K1, K2], 100, 110, " after their prewrite")
    _commit(p, [K1, K2], 100, 110, " sent a second time")


def after_rollback(p: Any, rng: random.Random) -> None:
    _pw(p, [K1], 100)
    p.given("kv_batch_rollback", {"keys": [K1], "start_version": 100})
    _commit(p, [K1], 100, 110, " after the transaction was rolled back")


def rolled_back_then_overwritten(p: Any, rng: random.Random) -> None:
    _pw(p, [K1], 100)
    p.given("kv_batch_rollback", {"keys": [K1], "start_version": 100})
    _pw(p, [K1], 120)
    p.given("kv_commit", {"keys": [K1], "start_version": 120, "commit_version": 130})
    _commit(p, [K1], 100, 140, " after the transaction was rolled back and the one at ts 120 committed k1 at 130")


def locked_by_other(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.prewritten(s, K1, K1, 90, b"other", ttl=3000))
    _commit(p, [K1], 100, 110, " while the transaction at ts 90 holds k1's lock")


def missing_prewrite(p: Any, rng: random.Random) -> None:
    _commit(p, [K1], 100, 110, " with no prewrite")


SCENARIOS: dict[str, Callable[[Any, random.Random], None]] = {
    "commit one key": one_key,
    "commit two keys, primary first": two_keys,
    "a delete and a lock-only mutation": kinds,
    "a commit sent twice": twice,
    "a commit after a rollback": after_rollback,
    "a commit after a rollback and a newer commit": rolled_back_then_overwritten,
    "a key locked by another transaction": locked_by_other,
    "a commit with no prewrite": missing_prewrite,
}


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    try:
        SCENARIOS[name](kit.Pair(target), random.Random(seed))
    except Wrong as exc:
        return str(exc)
    return None
