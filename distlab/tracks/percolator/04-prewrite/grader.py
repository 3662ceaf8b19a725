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


def _pw(p: Any, muts: list[tuple[str, bytes, bytes]], start: int, what: str, primary: bytes = P,
        ttl: int = 3000) -> None:
    req = {"mutations": [{"op": op, "key": k, "value": v} for op, k, v in muts], "primary_lock": primary,
           "start_version": start, "lock_ttl": ttl}
    keys = ", ".join(f"{op} {kit.show(k)}" for op, k, _ in muts)
    p.graded("kv_prewrite", req, f"prewrite of {keys} at ts {start}{what}")


def single_put(p: Any, rng: random.Random) -> None:
    _pw(p, [("put", K1, b"v1")], 100, "")


def kinds(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.committed(s, K2, b"old", 10, 12))
    _pw(p, [("put", K1, b"v1"), ("del", K2, b""), ("lock", K3, b"")], 100, "")


def resent(p: Any, rng: random.Random) -> None:
    _pw(p, [("put", K1, b"v1"), ("put", K2, b"v2")], 100, "")
    _pw(p, [("put", K1, b"v1"), ("put", K2, b"v2")], 100, ", sent a second time")


def committed_after(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.committed(s, K1, b"other", 105, 110))
    _pw(p, [("put", K1, b"v1")], 100, " (another transaction committed k1 at ts 110)")


def committed_at(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.committed(s, K1, b"other", 95, 100))
    _pw(p, [("put", K1, b"v1")], 100, " (another transaction committed k1 at ts 100)")


def committed_before(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.committed(s, K1, b"other", 80, 90))
    _pw(p, [("put", K1, b"v1")], 100, " (another transaction committed k1 at ts 90)")


def after_own_rollback(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.write(s, K1, 100, 100, WriteKind.ROLLBACK))
    _pw(p, [("put", K1, b"v1")], 100, " (this transaction was rolled back: k1 has its rollback record at ts 100)")


def locked(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.prewritten(s, K1, K1, 90, b"other", ttl=3000))
    _pw(p, [("put", K1, b"v1")], 100, " (the transaction at ts 90 holds k1's lock)")


def one_of_three_fails(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.prewritten(s, K2, K2, 90, b"other", ttl=3000))
    _pw(p, [("put", K1, b"v1"), ("put", K2, b"v2"), ("put", K3, b"v3")], 100,
        " (the transaction at ts 90 holds k2's lock)")
    p.setup(lambda s: kit.committed(s, K3, b"other", 150, 160))
    _pw(p, [("put", K1, b"v1"), ("put", K3, b"v3")], 140, " (k3 committed at ts 160)")


SCENARIOS: dict[str, Callable[[Any, random.Random], None]] = {
    "a single put": single_put,
    "put, delete and lock mutations": kinds,
    "a resent prewrite": resent,
    "a write committed after start_ts conflicts": committed_after,
    "a write committed exactly at start_ts conflicts": committed_at,
    "a write committed before start_ts does not": committed_before,
    "a late prewrite after this transaction's rollback": after_own_rollback,
    "another transaction's lock": locked,
    "one key of three fails: nothing is written": one_of_three_fails,
}


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    try:
        SCENARIOS[name](kit.Pair(target), random.Random(seed))
    except Wrong as exc:
        return str(exc)
    return None
