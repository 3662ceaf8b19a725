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


def _txn(w: Any, c: Any, writes: list[tuple[bytes, bytes]], what: str) -> bool:
    kit.call("begin()", c.begin)
    for k, v in writes:
        kit.call(f"set({kit.show(k)}, {kit.show(v)})", c.set, k, v)
    ok = kit.call(f"commit() of {what}", c.commit)
    if ok not in (True, False):
        raise Wrong(f"commit() of {what} returned {ok!r}; expected True or False")
    return bool(ok)


def _no_locks(w: Any, what: str) -> None:
    for key, lock in sorted(w.locks().items()):
        raise Wrong(f"after {what}, {kit.show(key)} still holds a lock of the transaction at ts {lock.ts}; "
                    "a finished transaction must leave no locks behind")


def _reads(w: Any, c: Any, want: dict[bytes, bytes | None], what: str) -> None:
    kit.call("begin()", c.begin)
    for key, value in want.items():
        got = kit.call(f"get({kit.show(key)})", c.get, key)
        if got != value:
            raise Wrong(f"get({kit.show(key)}) in a transaction begun {what} returned {kit.show(got)}; "
                        f"expected {kit.show(value)}")


def read_back(w: Any, c: Any, rng: random.Random) -> None:
    if not _txn(w, c, [(K1, b"v1"), (K2, b"v2"), (K3, b"v3")], "a transaction setting k1, k2, k3"):
        raise Wrong("commit() of a transaction setting k1, k2, k3 with nothing in its way returned False")
    _no_locks(w, "a committed transaction")
    _reads(w, c, {K1: b"v1", K2: b"v2", K3: b"v3", b"k9": None}, "after it committed")
    if not _txn(w, c, [(K2, b"v2b")], "a second transaction setting k2"):
        raise Wrong("commit() of a second transaction setting k2 returned False")
    _reads(w, c, {K1: b"v1", K2: b"v2b"}, "after the second one committed")


def order(w: Any, c: Any, rng: random.Random) -> None:
    _txn(w, c, [(K1, b"v1"), (K2, b"v2"), (K3, b"v3")], "a transaction setting k1, k2, k3")
    prewrites = [(i, r) for i, (m, r) in enumerate(w.log) if m == "kv_prewrite"]
    commits = [(i, r) for i, (m, r) in enumerate(w.log) if m == "kv_commit"]
    if not prewrites or not commits:
        raise Wrong(f"commit() of a transaction setting k1, k2, k3 sent {len(prewrites)} prewrite and "
                    f"{len(commits)} commit request(s); expected at least one of each")
    locked = [kit.as_bytes(m["key"]) for _, r in prewrites for m in r.get("mutations", [])]
    if sorted(set(locked)) != [K1, K2, K3]:
        raise Wrong(f"the prewrites covered {', '.join(map(kit.show, locked)) or 'no key'}; expected k1, k2, k3")
    primaries = {kit.as_bytes(r.get("primary_lock", b"")) for _, r in prewrites}
    if len(primaries) != 1:
        raise Wrong(f"the prewrites named {len(primaries)} different primaries "
                    f"({', '.join(map(kit.show, sorted(primaries)))}); every lock must name the same primary")
    (primary,) = primaries
    if prewrites[-1][0] > commits[0][0]:
        raise Wrong("a prewrite was sent after the first commit request; every key must be locked before "
                    "any is committed")
    first = [kit.as_bytes(k) for k in commits[0][1].get("keys", [])]
    if first != [primary]:
        raise Wrong(f"the first commit request covered {', '.join(map(kit.show, first))}; the primary "
                    f"{kit.show(primary)} must be committed first, and alone")
    start, commit_ts = commits[0][1].get("start_version"), commits[0][1].get("commit_version", 0)
    if commit_ts not in w.issued or w.issued.index(commit_ts) <= w.issued.index(start):
        raise Wrong(f"the commit used commit_version {commit_ts}, not a timestamp taken from oracle() after "
                    f"start_ts {start}")
    if w.issued_at[w.issued.index(commit_ts)] <= prewrites[-1][0]:
        raise Wrong(f"the commit used commit_version {commit_ts}, taken from oracle() before the last prewrite "
                    "was sent; a reader whose snapshot falls between the two could read past a key not yet "
                    "locked and miss a write its snapshot must include")
    for _, r in commits[1:]:
        if r.get("commit_version") != commit_ts:
            raise Wrong(f"the secondaries were committed at commit_version {r.get('commit_version')}, the primary "
                        f"at {commit_ts}; one transaction has one commit_ts, or a reader between the two sees "
                        "half of it")


def conflict(w: Any, c: Any, rng: random.Random) -> None:
    kit.call("begin()", c.begin)
    kit.call("set(k1, mine)", c.set, K1, b"mine")
    kit.call("set(k2, mine)", c.set, K2, b"mine")
    other = type(c)(w.send, w.oracle, w.sleep)
    if not _txn(w, other, [(K2, b"theirs")], "a transaction setting k2 that began later"):
        raise Wrong("commit() of a lone transaction setting k2 returned False")
    if kit.call("commit()", c.commit):
        raise Wrong("commit() of a transaction setting k1 and k2 returned True, though another transaction "
                    "committed k2 after it began: first committer wins, this one must abort")
    _no_locks(w, "the aborted commit")
    _reads(w, c, {K1: None, K2: b"theirs"}, "after the conflict")


def lost_prewrite_reply(w: Any, c: Any, rng: random.Random) -> None:
    w.lose_reply = lambda method, req: method == "kv_prewrite"
    ok = _txn(w, c, [(K1, b"v1"), (K2, b"v2")], "a transaction setting k1 and k2 whose prewrite replies are lost")
    w.lose_reply = lambda method, req: False
    if ok:
        raise Wrong("commit() returned True though no prewrite reply ever arrived")
    _no_locks(w, "a commit() whose prewrite replies were lost")


def lost_secondaries(w: Any, c: Any, rng: random.Random) -> None:
    def drop(method: str, req: dict) -> bool:
        if method != "kv_commit":
            return False
        first = next(r for m, r in w.log if m == "kv_commit")
        return req is not first
    w.drop = drop
    ok = _txn(w, c, [(K1, b"v1"), (K2, b"v2"), (K3, b"v3")], "a transaction whose secondary commits are lost")
    w.drop = lambda method, req: False
    if not ok:
        raise Wrong("commit() returned False after the primary's commit succeeded and only later commit "
                    "requests were lost; a transaction is committed once its primary is")
    for key, want in ((K1, b"v1"), (K2, b"v2"), (K3, b"v3")):
        got = w.read(key)
        if got != want:
            raise Wrong(f"after commit() returned True, a reader resolving locks reads {kit.show(got)} for "
                        f"{kit.show(key)}; expected {kit.show(want)}")


def lost_primary_reply(w: Any, c: Any, rng: random.Random) -> None:
    state = {"lost": False}

    def lose(method: str, req: dict) -> bool:
        if method == "kv_commit" and not state["lost"]:
            state["lost"] = True  # the first commit request lands; only its reply is lost
            return True
        return False
    w.lose_reply = lose
    ok = _txn(w, c, [(K1, b"v1"), (K2, b"v2")], "a transaction whose primary's commit reply is lost")
    w.lose_reply = lambda method, req: False
    committed = any(rec.kind != WriteKind.ROLLBACK for _, rec in w.records(K1))
    if committed and not ok:
        raise Wrong("commit() returned False, but its primary's commit had landed (only the reply was "
                    "lost): the transaction is committed and readers see it; a lost reply is not an "
                    "error, send the commit again (kv_commit is idempotent) to learn the outcome")
    for key, want in ((K1, b"v1"), (K2, b"v2")):
        got = w.read(key)
        if got != want:
            raise Wrong(f"after commit() returned True, a reader resolving locks reads {kit.show(got)} for "
                        f"{kit.show(key)}; expected {kit.show(want)}")


def primary_rolled_back(w: Any, c: Any, rng: random.Random) -> None:
    def before(method: str, req: dict) -> None:
        if method == "kv_commit" and not any(m == "kv_commit" for m, _ in w.log[:-1]):
            # a reader judged the transaction dead and rolled its primary back, just now
            locks = w.locks()
            start = req.get("start_version")
            primary = next((lk.primary for lk in locks.values() if lk.ts == start), None)
            if primary is not None:
                w.server.kv_check_txn_status({"primary_key": primary, "lock_ts": start,
                                              "current_ts": (w.clock_ms + 10**6) << 18})
    w.before = before
    ok = _txn(w, c, [(K1, b"v1"), (K2, b"v2")], "a transaction whose primary a reader rolls back first")
    w.before = lambda method, req: None
    for key in (K1, K2):
        for ts, rec in w.records(key):
            if rec.kind != WriteKind.ROLLBACK:
                raise Wrong(f"{kit.show(key)} has a commit record (commit ts {ts}) from the transaction at "
                            f"{rec.start_ts}, whose primary was rolled back before its commit: half a "
                            "transaction is visible")
    if ok:
        raise Wrong("commit() returned True though its primary's lock was rolled back before the commit")
    _no_locks(w, "the failed commit")


SCENARIOS: dict[str, Callable[[Any, Any, random.Random], None]] = {
    "a transaction is read back by the next": read_back,
    "prewrite all, then the primary alone, then the rest": order,
    "a write conflict aborts and leaves no locks": conflict,
    "prewrite replies lost": lost_prewrite_reply,
    "secondary commits lost": lost_secondaries,
    "the primary's commit reply lost": lost_primary_reply,
    "the primary rolled back by a reader before its commit": primary_rolled_back,
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
