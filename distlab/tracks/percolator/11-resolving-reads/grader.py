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


def _other(w: Any, keys: list[bytes], ttl: int) -> int:
    """Transaction A, run by distlab's handlers: prewrites keys (the first is its primary)."""
    start = w.oracle()
    w.server.kv_prewrite({"mutations": [{"op": "put", "key": k, "value": b"from-a"} for k in keys],
                          "primary_lock": keys[0], "start_version": start, "lock_ttl": ttl})
    return start


def _commit(w: Any, keys: list[bytes], start: int, commit_ts: int) -> None:
    w.server.kv_commit({"keys": keys, "start_version": start, "commit_version": commit_ts})


def _get(w: Any, c: Any, key: bytes, want: bytes | None, what: str) -> None:
    kit.call("begin()", c.begin)
    got = kit.call(f"get({kit.show(key)})", c.get, key)
    if got != want:
        raise Wrong(f"get({kit.show(key)}) {what} returned {kit.show(got)}; expected {kit.show(want)}")


def _old(w: Any) -> None:
    """k1 and k2 hold 'old', committed long ago."""
    start = w.oracle()
    w.server.kv_prewrite({"mutations": [{"op": "put", "key": k, "value": b"old"} for k in (K1, K2)],
                          "primary_lock": K1, "start_version": start, "lock_ttl": 0})
    _commit(w, [K1, K2], start, w.oracle())


def _lock_left(w: Any, key: bytes, what: str) -> None:
    lock = w.locks().get(key)
    if lock is not None:
        raise Wrong(f"after get({kit.show(key)}) {what}, {kit.show(key)} is still locked by the "
                    f"transaction at ts {lock.ts}; the reader should have resolved it")


def roll_forward(w: Any, c: Any, rng: random.Random) -> None:
    _old(w)
    a = _other(w, [K1, K2], ttl=3000)
    _commit(w, [K1], a, w.oracle())
    what = "after transaction A committed its primary k1 and its client died before committing k2"
    _get(w, c, K2, b"from-a", what)
    _lock_left(w, K2, what)


def roll_back_expired(w: Any, c: Any, rng: random.Random) -> None:
    _old(w)
    _other(w, [K1, K2], ttl=100)
    w.clock_ms += 5_000
    what = "after transaction A locked k1 and k2 with a 100 ms TTL and its client died 5 s ago"
    _get(w, c, K2, b"old", what)
    _lock_left(w, K2, what)


def _watch_rollbacks(w: Any, a: int, key: bytes, state: dict) -> None:
    def before(method: str, req: dict) -> None:
        if state["committed"] or req.get("start_version") != a:
            return
        if (method == "kv_resolve_lock" and not req.get("commit_version")) or method == "kv_batch_rollback":
            raise Wrong(f"get({kit.show(key)}) rolled back a lock of transaction A (ts {a}) while A was still "
                        "alive (within its 3000 ms TTL, as check_txn_status says): A then commits its primary "
                        "and half of it is lost")
    w.before = before


def wait_for_live(w: Any, c: Any, rng: random.Random) -> None:
    _old(w)
    a = _other(w, [K1, K2], ttl=3000)
    commit_ts = w.oracle()  # A's commit ts, taken before the reader begins: the reader must see A
    state = {"committed": False, "sleeps": 0}
    _watch_rollbacks(w, a, K2, state)

    def on_sleep() -> None:
        state["sleeps"] += 1
        if state["sleeps"] == 3 and not state["committed"]:
            _commit(w, [K1], a, commit_ts)
            _commit(w, [K2], a, commit_ts)
            state["committed"] = True
    w.on_sleep = on_sleep
    _get(w, c, K2, b"from-a", "while transaction A (alive, TTL 3000 ms) holds k2's lock and commits below "
         "the reader's start_ts after the reader's third sleep")
    if not state["committed"]:
        raise Wrong("get(k2) returned while transaction A was still alive and had not committed; a live lock "
                    "at or below the read's start_ts must be waited for")


def owner_never_returns(w: Any, c: Any, rng: random.Random) -> None:
    _old(w)
    a = _other(w, [K1, K2], ttl=3000)
    t0 = w.clock_ms

    def before(method: str, req: dict) -> None:
        # until A's TTL is over, A counts as alive
        if w.clock_ms - t0 <= 3000 and req.get("start_version") == a and (
                (method == "kv_resolve_lock" and not req.get("commit_version")) or method == "kv_batch_rollback"):
            raise Wrong(f"get(k2) rolled back a lock of transaction A (ts {a}) while A was still alive "
                        "(within its 3000 ms TTL, as check_txn_status says)")
    w.before = before
    what = "while transaction A (TTL 3000 ms) holds k2's lock and its client never returns"
    _get(w, c, K2, b"old", what)
    _lock_left(w, K2, what)


SCENARIOS: dict[str, Callable[[Any, Any, random.Random], None]] = {
    "roll a committed transaction forward": roll_forward,
    "roll an expired transaction back": roll_back_expired,
    "wait for a live transaction": wait_for_live,
    "outlast a client that never returns": owner_never_returns,
}


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    try:
        w = kit.World()
        SCENARIOS[name](w, w.client(target), random.Random(seed))
    except Wrong as exc:
        return str(exc)
    return None
