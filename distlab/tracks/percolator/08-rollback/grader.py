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

from distlab.systems.percolator.server import Server as Reference  # noqa: E402


def _pw(p: Any, keys: list[bytes], start: int) -> None:
    p.given("kv_prewrite", {"mutations": [{"op": "put", "key": k, "value": b"v" + k} for k in keys],
                            "primary_lock": keys[0], "start_version": start, "lock_ttl": 3000})


def _rb(p: Any, keys: list[bytes], start: int, what: str, check_store: bool = True) -> None:
    names = ", ".join(kit.show(k) for k in keys)
    p.graded("kv_batch_rollback", {"keys": keys, "start_version": start},
             f"rollback of {names} (start ts {start}){what}", check_store=check_store)


def prewritten(p: Any, rng: random.Random) -> None:
    _pw(p, [K1, K2], 100)
    _rb(p, [K1, K2], 100, " after their prewrite")


def repeated(p: Any, rng: random.Random) -> None:
    _pw(p, [K1, K2], 100)
    _rb(p, [K1, K2, K1], 100, " after their prewrite")


def missing(p: Any, rng: random.Random) -> None:
    _rb(p, [K1], 100, " with no prewrite")


def missing_over_older(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.committed(s, K1, b"old", 80, 90))
    _rb(p, [K1], 100, " with no prewrite (the transaction at ts 80 committed k1 at 90)")


def twice(p: Any, rng: random.Random) -> None:
    _pw(p, [K1], 100)
    _rb(p, [K1], 100, " after its prewrite")
    _rb(p, [K1], 100, " sent a second time")


def committed(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.committed(s, K1, b"v", 100, 110))
    _rb(p, [K1], 100, " after the transaction committed k1 at 110")


def other_lock(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.prewritten(s, K1, K1, 90, b"other", ttl=3000))
    _rb(p, [K1], 100, " while the transaction at ts 90 holds k1's lock")


def late_prewrite(p: Any, rng: random.Random) -> None:
    _rb(p, [K1], 100, " before its prewrite arrived", check_store=False)
    late = {"mutations": [{"op": "put", "key": K1, "value": b"late"}], "primary_lock": K1,
            "start_version": 100, "lock_ttl": 3000}
    resp = Reference(p.mine).kv_prewrite(late)
    if not resp["errors"]:
        raise Wrong("after your rollback of k1 (start ts 100), a late prewrite of k1 by that same transaction "
                    "succeeded and locked k1 again; the rollback must leave a record that refuses it")
    kit.expect(p.mine, p.theirs, "after the rollback of k1 (start ts 100) and its late prewrite")


SCENARIOS: dict[str, Callable[[Any, random.Random], None]] = {
    "roll back a prewrite": prewritten,
    "keys repeated": repeated,
    "a key never prewritten": missing,
    "a key never prewritten, over an older commit": missing_over_older,
    "a rollback sent twice": twice,
    "a committed key is not rolled back": committed,
    "another transaction's lock stays": other_lock,
    "a late prewrite is refused": late_prewrite,
}


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    try:
        SCENARIOS[name](kit.Pair(target), random.Random(seed))
    except Wrong as exc:
        return str(exc)
    return None
