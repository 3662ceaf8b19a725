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

K4 = b"k4"


def _pw(p: Any, keys: list[bytes], start: int, ops: list[str] | None = None) -> None:
    ops = ops or ["put"] * len(keys)
    muts = [{"op": op, "key": k, "value": b"v" + k} for op, k in zip(ops, keys, strict=True)]
    p.given("kv_prewrite", {"mutations": muts,
                            "primary_lock": keys[0], "start_version": start, "lock_ttl": 3000})


def _resolve(p: Any, start: int, commit: int, what: str, keys: list[bytes] | None = None) -> None:
    req: dict[str, Any] = {"start_version": start, "commit_version": commit}
    if keys is not None:
        req["keys"] = keys
    verb = f"commit at {commit}" if commit else "rollback"
    only = f" of {', '.join(kit.show(k) for k in keys)}" if keys else ""
    p.graded("kv_resolve_lock", req, f"resolve_lock{only} ({verb}) of the transaction at ts {start}{what}")


def commit_all(p: Any, rng: random.Random) -> None:
    _pw(p, [K1, K2, K3], 100)
    _pw(p, [K4], 120)
    _resolve(p, 100, 110, " (it locked k1, k2, k3; the transaction at 120 locked k4)")


def rollback_all(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.committed(s, K2, b"old", 80, 90))
    _pw(p, [K1, K2, K3], 100)
    _pw(p, [K4], 120)
    _resolve(p, 100, 0, " (it locked k1, k2, k3, k2 over a commit at 90; the transaction at 120 locked k4)")


def commit_kinds(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.committed(s, K2, b"old", 80, 90))
    _pw(p, [K1, K2, K3], 100, ["put", "del", "lock"])
    _resolve(p, 100, 110, " (it put k1, deleted k2 and locked k3)")


def roll_forward(p: Any, rng: random.Random) -> None:
    _pw(p, [K1, K2, K3], 100)
    p.given("kv_commit", {"keys": [K1], "start_version": 100, "commit_version": 110})
    _resolve(p, 100, 110, " (its primary k1 committed at 110, k2 and k3 still locked)")


def lite(p: Any, rng: random.Random) -> None:
    _pw(p, [K1, K2, K3], 100)
    _pw(p, [K4], 120)
    _resolve(p, 100, 0, "", keys=[K2, K4])
    _resolve(p, 100, 110, "", keys=[K3])


def nothing_left(p: Any, rng: random.Random) -> None:
    p.setup(lambda s: kit.committed(s, K1, b"v", 100, 110))
    _resolve(p, 100, 110, " (it has no locks left)")
    _resolve(p, 100, 0, " (it has no locks left)")


SCENARIOS: dict[str, Callable[[Any, random.Random], None]] = {
    "commit every lock of one transaction": commit_all,
    "roll back every lock of one transaction": rollback_all,
    "commit a delete and a lock-only mutation": commit_kinds,
    "roll a half-committed transaction forward": roll_forward,
    "only the keys asked for": lite,
    "a transaction with no locks left": nothing_left,
}


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    try:
        SCENARIOS[name](kit.Pair(target), random.Random(seed))
    except Wrong as exc:
        return str(exc)
    return None
