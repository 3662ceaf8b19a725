"""Properties of the Percolator store beyond TinyKV's examples.

* Differential: random request sequences give identical responses and identical column families
  on the memory and RocksDB engines (the durable engine is the in-memory one, persisted).
* Invariants after every request of those sequences (brute-force over the whole store): no
  transaction both committed and rolled back on a key, every committed Put has its value, no
  lock left beside its own transaction's record, commit records never precede their start.
* Concurrency: threads moving money between accounts with a minimal Percolator client, readers
  resolving the locks they meet; every snapshot sums to the same total and every written key
  was latched.
"""

from __future__ import annotations

import itertools
import random
import threading

import pytest

from distlab.systems.percolator.codec import decode_key, encode_key
from distlab.systems.percolator.mvcc import Lock, Write, WriteKind
from distlab.systems.percolator.server import Server
from distlab.systems.percolator.storage import (
    CF_DEFAULT,
    CF_LOCK,
    CF_WRITE,
    MemoryStorage,
    RocksStorage,
    Storage,
)

KEYS = [b"a", b"b", b"c", b"a\x00"]


def random_request(rng: random.Random, clock: list[int], txns: list[int]) -> tuple[str, dict]:
    """One plausible-but-hostile request: stale timestamps, duplicates and reorderings allowed."""
    clock[0] += rng.randint(1, 3)
    now = clock[0]
    if rng.random() < 0.3 or not txns:
        txns.append(now)
    start = rng.choice(txns)
    keys = rng.sample(KEYS, rng.randint(1, 3))
    kind = rng.choice(
        ["prewrite", "prewrite", "commit", "commit", "rollback", "status", "resolve", "get", "scan"]
    )
    if kind == "prewrite":
        muts = [
            {
                "op": rng.choice(["put", "put", "del", "lock"]),
                "key": k,
                "value": bytes([now & 0xFF]),
            }
            for k in keys
        ]
        return "kv_prewrite", {
            "mutations": muts,
            "primary_lock": keys[0],
            "start_version": start,
            "lock_ttl": rng.choice([0, 1, 100]),
        }
    if kind == "commit":
        commit_ts = now if rng.random() < 0.9 else start  # sometimes an invalid commit ts
        return "kv_commit", {"keys": keys, "start_version": start, "commit_version": commit_ts}
    if kind == "rollback":
        return "kv_batch_rollback", {"keys": keys, "start_version": start}
    if kind == "status":
        return "kv_check_txn_status", {
            "primary_key": keys[0],
            "lock_ts": start,
            "current_ts": now << rng.choice([0, 18]),
        }
    if kind == "resolve":
        return "kv_resolve_lock", {"start_version": start, "commit_version": rng.choice([0, now])}
    if kind == "get":
        return "kv_get", {"key": keys[0], "version": rng.choice([start, now])}
    return "kv_scan", {
        "start_key": rng.choice([b"", b"a", b"b"]),
        "limit": rng.randint(0, 5),
        "version": now,
    }


def check_invariants(storage: Storage) -> None:
    records: dict[tuple[bytes, int], list[tuple[int, Write]]] = {}
    for enc, raw in storage.dump(CF_WRITE).items():
        key, commit_ts = decode_key(enc)
        w = Write.parse(raw)
        records.setdefault((key, w.start_ts), []).append((commit_ts, w))
        assert commit_ts >= w.start_ts, f"{key!r}: commit {commit_ts} before start {w.start_ts}"
        if w.kind == WriteKind.ROLLBACK:
            assert commit_ts == w.start_ts
        if w.kind == WriteKind.PUT:
            assert storage.reader().get_cf(CF_DEFAULT, encode_key(key, w.start_ts)) is not None
    for (key, start), recs in records.items():
        kinds = {w.kind for _, w in recs}
        assert not (WriteKind.ROLLBACK in kinds and len(kinds) > 1), (
            f"{key!r}@{start} committed and rolled back"
        )
        assert len([1 for _, w in recs if w.kind != WriteKind.ROLLBACK]) <= 1, (
            f"{key!r}@{start} committed twice"
        )
    for key, raw in storage.dump(CF_LOCK).items():
        lock = Lock.parse(raw)
        assert (key, lock.ts) not in records, (
            f"{key!r} locked by {lock.ts} which already has a record"
        )


@pytest.mark.parametrize("seed", range(12))
def test_engines_agree_and_invariants_hold(seed: int, tmp_path) -> None:
    rng = random.Random(seed)
    mem, rocks = MemoryStorage(), RocksStorage(tmp_path / "db", sync=False)
    servers = [Server(mem), Server(rocks)]
    clock, txns = [10], []
    try:
        for step in range(150):
            method, req = random_request(rng, clock, txns)
            answers = [s.handle(method, req) for s in servers]
            assert answers[0] == answers[1], (step, method, req)
            for cf in (CF_DEFAULT, CF_LOCK, CF_WRITE):
                assert mem.dump(cf) == rocks.dump(cf), (step, method, cf)
            check_invariants(mem)
    finally:
        rocks.close()


def test_invariant_checker_catches_a_bad_store() -> None:
    """The checker above is not vacuous: a store with a committed-and-rolled-back txn fails it."""
    s = MemoryStorage()
    from distlab.systems.percolator.storage import Modify

    s.write(
        [
            Modify(CF_DEFAULT, encode_key(b"k", 5), b"v"),
            Modify(CF_WRITE, encode_key(b"k", 7), Write(5, WriteKind.PUT).to_bytes()),
            Modify(CF_WRITE, encode_key(b"k", 5), Write(5, WriteKind.ROLLBACK).to_bytes()),
        ]
    )
    with pytest.raises(AssertionError, match="committed and rolled back"):
        check_invariants(s)


# -- concurrent transfers --------------------------------------------------------------------------

ACCOUNTS = [f"acct{i}".encode() for i in range(5)]
TOTAL = 100 * len(ACCOUNTS)


class Tso:
    """physical<<18: every tick is a millisecond, so small TTLs expire after a few ticks."""

    def __init__(self) -> None:
        self._n = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            return next(self._n) << 18


def resolve(server: Server, tso: Tso, info: dict) -> None:
    """What a reader does about a lock it met: settle its owner's fate from the primary."""
    status = server.kv_check_txn_status(
        {"primary_key": info["primary_lock"], "lock_ts": info["lock_version"], "current_ts": tso()}
    )
    if status["action"] == "no_action" and status["commit_version"] == 0 and status["lock_ttl"]:
        return  # owner alive: retry later
    server.kv_resolve_lock(
        {
            "start_version": info["lock_version"],
            "commit_version": status["commit_version"],
            "keys": [info["key"]],
        }
    )


def read(server: Server, tso: Tso, key: bytes, ts: int) -> int | None:
    for _ in range(200):
        resp = server.kv_get({"key": key, "version": ts})
        if resp["error"] is None:
            return int(resp["value"])
        resolve(server, tso, resp["error"]["locked"])
    return None


def transfer(server: Server, tso: Tso, rng: random.Random) -> str:
    src, dst = rng.sample(ACCOUNTS, 2)
    start = tso()
    a, b = read(server, tso, src, start), read(server, tso, dst, start)
    if a is None or b is None:
        return "gave-up"
    amount = rng.randint(0, 10)
    muts = [
        {"op": "put", "key": src, "value": str(a - amount).encode()},
        {"op": "put", "key": dst, "value": str(b + amount).encode()},
    ]
    errs = server.kv_prewrite(
        {"mutations": muts, "primary_lock": src, "start_version": start, "lock_ttl": 20}
    )["errors"]
    if errs:
        server.kv_batch_rollback({"keys": [src, dst], "start_version": start})
        return "conflict"
    commit_ts = tso()
    if server.kv_commit({"keys": [src], "start_version": start, "commit_version": commit_ts})[
        "error"
    ]:
        server.kv_batch_rollback({"keys": [dst], "start_version": start})
        return "aborted"
    if rng.random() < 0.2:
        return "committed"  # the client "dies" before committing the secondary: readers resolve it
    server.kv_commit({"keys": [dst], "start_version": start, "commit_version": commit_ts})
    return "committed"


def audit(server: Server, tso: Tso) -> int | None:
    ts = tso()
    values = [read(server, tso, k, ts) for k in ACCOUNTS]
    return None if None in values else sum(values)  # type: ignore[arg-type]


@pytest.mark.parametrize("engine", ["memory", "rocksdb"])
def test_concurrent_transfers_keep_the_total(engine: str, tmp_path) -> None:
    storage: Storage = (
        MemoryStorage() if engine == "memory" else RocksStorage(tmp_path / "db", sync=False)
    )
    server, tso = Server(storage), Tso()
    latch_violations: list[list[bytes]] = []
    server.latches.validation = lambda held, touched: (
        latch_violations.append([k for k in touched if k not in held])
        if set(touched) - held
        else None
    )
    start = tso()
    server.kv_prewrite(
        {
            "mutations": [{"op": "put", "key": k, "value": b"100"} for k in ACCOUNTS],
            "primary_lock": ACCOUNTS[0],
            "start_version": start,
        }
    )
    server.kv_commit({"keys": ACCOUNTS, "start_version": start, "commit_version": tso()})
    outcomes: list[str] = []
    sums: list[int | None] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        for i in range(40):
            outcomes.append(transfer(server, tso, rng))
            if i % 8 == 0:
                sums.append(audit(server, tso))

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert not latch_violations
        assert outcomes.count("committed") > 10, outcomes
        assert all(s in (None, TOTAL) for s in sums), sums
        assert audit(server, tso) == TOTAL
        check_invariants(storage)
    finally:
        storage.close()


def test_rocksdb_server_survives_restart_between_prewrite_and_commit(tmp_path) -> None:
    """Locks are durable: a store restarted mid-transaction still blocks readers and commits."""
    s = RocksStorage(tmp_path / "db")
    server = Server(s)
    req = {
        "mutations": [{"op": "put", "key": b"k", "value": b"v"}],
        "primary_lock": b"k",
        "start_version": 10,
        "lock_ttl": 5,
    }
    assert server.kv_prewrite(req)["errors"] == []
    s.close()
    s = RocksStorage(tmp_path / "db")
    server = Server(s)
    assert server.kv_get({"key": b"k", "version": 15})["error"]["locked"]["lock_version"] == 10
    assert (
        server.kv_commit({"keys": [b"k"], "start_version": 10, "commit_version": 12})["error"]
        is None
    )
    assert server.kv_get({"key": b"k", "version": 15})["value"] == b"v"
    s.close()
