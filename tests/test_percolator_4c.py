"""TinyKV project 4C (kv/transaction/commands4c_test.go): rollback, check-txn-status, resolve, scan.

Same names, seeds and expectations as TinyKV's, on both engines, with the whole store compared
after each request. Timestamps in the check-txn-status tests are TinyKV's: lock_ts is
BigEndian(0,0,5,0,0,0,0,ts) and current_ts BigEndian(0,0,6,0,0,0,0,ts), so the lock's physical
time is 5<<22 ms and the clock's 6<<22 ms: 4194304 ms apart.
"""

from __future__ import annotations

import pytest

from distlab.systems.percolator.storage import CF_DEFAULT as D
from distlab.systems.percolator.storage import CF_LOCK as L
from distlab.systems.percolator.storage import CF_WRITE as W
from tests.percolator_builder import ENGINES, Builder, be64, kv, make_storage


@pytest.fixture(params=ENGINES)
def b(request, tmp_path):
    s = make_storage(request.param, tmp_path)
    yield Builder(s)
    s.close()


def lock_bytes(ts: int) -> list[int]:
    """TinyKV's usual seeded lock: primary [1], Put, start ts < 256, ttl 0."""
    return [1, 1, 0, 0, 0, 0, 0, 0, 0, ts, 0, 0, 0, 0, 0, 0, 0, 0]


def rb_at(start: int) -> list[int]:
    return [3, 0, 0, 0, 0, 0, 0, 0, start]


# -- rollback ----------------------------------------------------------------------------------


def test_empty_rollback_4c(b: Builder) -> None:
    assert b.run("KvBatchRollback", b.rollback())["error"] is None
    b.assert_state((0, 0, 0))


def test_rollback_4c(b: Builder) -> None:
    cmd = b.rollback(bytes([3]))
    b.init([kv(D, [3], [42]), kv(L, [3], lock_bytes(b.ts()))])
    assert b.run("KvBatchRollback", cmd)["error"] is None
    b.assert_state((0, 0, 1), [kv(W, [3], rb_at(b.ts()))], gone=[kv(D, [3]), kv(L, [3])])


def test_rollback_duplicate_keys_4c(b: Builder) -> None:
    cmd = b.rollback(bytes([3]), bytes([15]), bytes([3]))
    b.init(
        [
            kv(D, [3], [42]),
            kv(L, [3], lock_bytes(b.ts())),
            kv(D, [15], [0]),
            kv(L, [15], lock_bytes(b.ts())),
        ]
    )
    assert b.run("KvBatchRollback", cmd)["error"] is None
    b.assert_state(
        (0, 0, 2),
        [kv(W, [3], rb_at(b.ts())), kv(W, [15], rb_at(b.ts()))],
        gone=[kv(D, [3]), kv(L, [3]), kv(D, [15]), kv(L, [15])],
    )


def test_rollback_missing_prewrite_4c(b: Builder) -> None:
    cmd = b.rollback(bytes([3]))
    assert b.run("KvBatchRollback", cmd)["error"] is None
    b.assert_state((0, 0, 1), [kv(W, [3], rb_at(b.ts()))])


def test_rollback_committed_4c(b: Builder) -> None:
    cmd = b.rollback(bytes([3]))
    b.init([kv(D, [3], [42]), kv(W, [3], [1, 0, 0, 0, 0, 0, 0, 0, b.ts()], ts=110)])
    err = b.run("KvBatchRollback", cmd)["error"]
    assert err is not None and err["abort"]
    b.assert_state((1, 0, 1), [kv(D, [3]), kv(W, [3], ts=110)])


def test_rollback_duplicate_4c(b: Builder) -> None:
    cmd = b.rollback(bytes([3]))
    b.init([kv(W, [3], rb_at(b.ts()), ts=100)])
    assert b.run("KvBatchRollback", cmd)["error"] is None
    b.assert_state((0, 0, 1), [kv(W, [3], ts=100)])


def test_rollback_other_txn_4c(b: Builder) -> None:
    cmd = b.rollback(bytes([3]))
    b.init([kv(D, [3], [42], ts=80), kv(L, [3], lock_bytes(80))])
    assert b.run("KvBatchRollback", cmd)["error"] is None
    b.assert_state((1, 1, 1), [kv(D, [3], ts=80), kv(L, [3]), kv(W, [3], rb_at(b.ts()), ts=100)])


def test_prewrite_after_rollback_is_refused(b: Builder) -> None:
    """Not in TinyKV: the rollback record is what stops a delayed prewrite of the same txn."""
    assert b.run("KvBatchRollback", b.rollback(bytes([3])))["error"] is None  # ts 100
    late = {
        "mutations": [{"op": "put", "key": b"\x03", "value": b"late"}],
        "primary_lock": b"\x03",
        "start_version": 100,
        "lock_ttl": 3000,
    }
    errors = b.run("KvPrewrite", late)["errors"]
    assert len(errors) == 1 and errors[0]["conflict"]["conflict_ts"] == 100
    b.assert_state((0, 0, 1), [kv(W, [3], rb_at(100), ts=100)])


# -- check txn status ----------------------------------------------------------------------------


def test_check_txn_status_ttl_expired_4c(b: Builder) -> None:
    cmd = b.check_txn_status(bytes([3]))
    b.init(
        [
            kv(D, [3], [42], ts=cmd["lock_ts"]),
            kv(L, [3], [3, 1, 0, 0, 5, 0, 0, 0, 0, b.ts(), 0, 0, 0, 0, 0, 0, 0, 8]),
        ]
    )
    resp = b.run("KvCheckTxnStatus", cmd)
    assert resp["action"] == "ttl_expire_rollback"
    b.assert_state(
        (0, 0, 1),
        [kv(W, [3], [3, 0, 0, 5, 0, 0, 0, 0, b.ts()], ts=cmd["lock_ts"])],
        gone=[kv(D, [3], ts=cmd["lock_ts"]), kv(L, [3])],
    )


def test_check_txn_status_ttl_not_expired_4c(b: Builder) -> None:
    cmd = b.check_txn_status(bytes([3]))
    # ttl = BigEndian(0,0,0,1,0,0,0,8) = 2**32 + 8 ms, far more than the 4194304 ms elapsed.
    b.init(
        [
            kv(D, [3], [42], ts=cmd["lock_ts"]),
            kv(L, [3], [3, 1, 0, 0, 5, 0, 0, 0, 0, b.ts(), 0, 0, 0, 1, 0, 0, 0, 8]),
        ]
    )
    resp = b.run("KvCheckTxnStatus", cmd)
    assert resp["action"] == "no_action"
    assert resp["lock_ttl"] == be64(0, 0, 0, 1, 0, 0, 0, 8)
    b.assert_state((1, 1, 0), [kv(D, [3], ts=cmd["lock_ts"]), kv(L, [3])])


def test_check_txn_status_ttl_boundary(b: Builder) -> None:
    """Not in TinyKV: a lock exactly TTL old is still alive (expired only when strictly older)."""
    lock_ts, now = (1000 << 18), (1500 << 18)
    lock = [3, 1, *(lock_ts).to_bytes(8, "big"), *(500).to_bytes(8, "big")]
    b.init([kv(D, [3], [42], ts=lock_ts), kv(L, [3], lock)])
    req = {"primary_key": b"\x03", "lock_ts": lock_ts, "current_ts": now}
    assert b.run("KvCheckTxnStatus", req)["action"] == "no_action"
    req["current_ts"] = now + (1 << 18)
    assert b.run("KvCheckTxnStatus", req)["action"] == "ttl_expire_rollback"


def test_check_txn_status_rolled_back_4c(b: Builder) -> None:
    cmd = b.check_txn_status(bytes([3]))
    b.init(
        [
            kv(D, [3], [42], ts=cmd["lock_ts"]),
            kv(W, [3], [3, 0, 0, 5, 0, 0, 0, 0, b.ts()], ts=cmd["lock_ts"]),
            kv(L, [3], [3, 1, 0, 0, 8, 0, 0, 0, 0, b.ts(), 0, 0, 0, 0, 0, 0, 0, 8]),
        ]
    )
    resp = b.run("KvCheckTxnStatus", cmd)
    assert resp["action"] == "no_action" and resp["commit_version"] == 0
    b.assert_state(
        (1, 1, 1), [kv(D, [3], ts=cmd["lock_ts"]), kv(W, [3], ts=cmd["lock_ts"]), kv(L, [3])]
    )


def test_check_txn_status_committed_4c(b: Builder) -> None:
    cmd = b.check_txn_status(bytes([3]))
    b.init(
        [
            kv(D, [3], [42], ts=cmd["lock_ts"]),
            kv(W, [3], [1, 0, 0, 5, 0, 0, 0, 0, b.ts()], ts=cmd["lock_ts"]),
        ]
    )
    resp = b.run("KvCheckTxnStatus", cmd)
    assert resp["action"] == "no_action"
    assert resp["commit_version"] == be64(0, 0, 5, 0, 0, 0, 0, b.ts())
    b.assert_state((1, 0, 1), [kv(D, [3], ts=cmd["lock_ts"]), kv(W, [3], ts=cmd["lock_ts"])])


def test_check_txn_status_no_lock_no_write_4c(b: Builder) -> None:
    cmd = b.check_txn_status(bytes([3]))
    resp = b.run("KvCheckTxnStatus", cmd)
    assert resp["action"] == "lock_not_exist_rollback"
    b.assert_state((0, 0, 1), [kv(W, [3], [3, 0, 0, 5, 0, 0, 0, 0, b.ts()], ts=cmd["lock_ts"])])


# -- resolve lock --------------------------------------------------------------------------------


def resolve_seed() -> list:
    return [
        kv(D, [3], [42], ts=100),
        kv(L, [3], [1, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0]),
        kv(D, [7], [43], ts=100),
        kv(L, [7], [1, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0]),
        kv(D, [200], [44], ts=110),
        kv(L, [200], [1, 0, 0, 0, 0, 0, 0, 0, 110, 0, 0, 0, 0, 0, 0, 0, 0]),
    ]


def written_seed() -> list:
    return [
        kv(D, [3], [42], ts=100),
        kv(W, [201], [1, 0, 0, 0, 0, 0, 0, 0, 100], ts=120),
        kv(D, [7], [43], ts=100),
        kv(W, [201], [3, 0, 0, 0, 0, 0, 0, 0, 100], ts=100),
        kv(D, [200], [44], ts=110),
        kv(L, [200], [1, 0, 0, 0, 0, 0, 0, 0, 110, 0, 0, 0, 0, 0, 0, 0, 0]),
    ]


def resolve(start: int, commit: int) -> dict:
    return {"start_version": start, "commit_version": commit}


def test_empty_resolve_4c(b: Builder) -> None:
    assert b.run("KvResolveLock", resolve(0, 0))["error"] is None
    b.assert_state((0, 0, 0))


def test_resolve_commit_4c(b: Builder) -> None:
    b.init(resolve_seed())
    assert b.run("KvResolveLock", resolve(100, 120))["error"] is None
    b.assert_state(
        (3, 1, 2),
        [
            kv(D, [3], ts=100),
            kv(W, [3], [1, 0, 0, 0, 0, 0, 0, 0, 100], ts=120),
            kv(D, [7], ts=100),
            kv(W, [7], [1, 0, 0, 0, 0, 0, 0, 0, 100], ts=120),
            kv(D, [200], ts=110),
            kv(L, [200]),
        ],
        gone=[kv(L, [3]), kv(L, [7])],
    )


def test_resolve_rollback_4c(b: Builder) -> None:
    b.init(resolve_seed())
    assert b.run("KvResolveLock", resolve(100, 0))["error"] is None
    b.assert_state(
        (1, 1, 2),
        [
            kv(W, [3], rb_at(100), ts=100),
            kv(W, [7], rb_at(100), ts=100),
            kv(D, [200], ts=110),
            kv(L, [200]),
        ],
        gone=[kv(L, [3]), kv(L, [7]), kv(D, [3], ts=100), kv(D, [7], ts=100)],
    )


def test_resolve_commit_written_4c(b: Builder) -> None:
    b.init(written_seed())
    assert b.run("KvResolveLock", resolve(100, 120))["error"] is None
    b.assert_state((3, 1, 2))


def test_resolve_rollback_written_4c(b: Builder) -> None:
    b.init(written_seed())
    assert b.run("KvResolveLock", resolve(100, 0))["error"] is None
    b.assert_state((3, 1, 2))


def test_resolve_only_named_keys(b: Builder) -> None:
    """Not in TinyKV (TiKV's lite resolve): with ``keys``, only those of the txn's locks go."""
    b.init(resolve_seed())
    req = {**resolve(100, 120), "keys": [b"\x07", b"\xc8"]}  # 200 is another txn's: untouched
    assert b.run("KvResolveLock", req)["error"] is None
    b.assert_state(
        (3, 2, 1),
        [kv(W, [7], [1, 0, 0, 0, 0, 0, 0, 0, 100], ts=120), kv(L, [3]), kv(L, [200])],
        gone=[kv(L, [7])],
    )


# -- scan ----------------------------------------------------------------------------------------


def builder_for_scan(b: Builder) -> Builder:
    def put(key: list[int], value: int, start: int, commit: int) -> list:
        return [
            kv(D, key, [value], ts=start),
            kv(W, key, [1, 0, 0, 0, 0, 0, 0, 0, start], ts=commit),
        ]

    values: list = []
    # Committed before 100.
    for key, value in (
        ([1], 50),
        ([1, 23], 55),
        ([3], 51),
        ([3, 45], 56),
        ([3, 46], 57),
        ([3, 47], 58),
        ([3, 48], 59),
        ([4], 52),
        ([120], 53),
        ([199], 54),
    ):
        values += put(key, value, 80, 99)
    # Committed after 100.
    for key, value in (([4, 45], 58), ([4, 46], 57), ([4, 47], 58), ([4, 48], 59)):
        values += put(key, value, 110, 116)
    # Committed after 100, but started before.
    for key, value in (([5, 45], 60), ([5, 46], 61), ([5, 47], 62), ([5, 48], 63)):
        values += put(key, value, 97, 101)
    # A deleted value and replaced value.
    values += put([150], 42, 80, 99)
    values.append(kv(W, [150], [2, 0, 0, 0, 0, 0, 0, 0, 97], ts=101))
    values += put([150], 64, 110, 116)
    b.init(values)
    return b


def scan(b: Builder, start: list[int], limit: int, version: int | None = None) -> list[dict]:
    req = b.scan(bytes(start), limit)
    if version is not None:
        req["version"] = version
    return b.run("KvScan", req)["pairs"]


def test_scan_empty_4c(b: Builder) -> None:
    assert scan(builder_for_scan(b), [200], 10000) == []


def test_scan_limit_zero_4c(b: Builder) -> None:
    assert scan(builder_for_scan(b), [3], 0) == []


def test_scan_all_4c(b: Builder) -> None:
    pairs = scan(builder_for_scan(b), [0], 10000)
    assert len(pairs) == 11
    assert (pairs[0]["key"], pairs[0]["value"]) == (bytes([1]), bytes([50]))
    assert (pairs[10]["key"], pairs[10]["value"]) == (bytes([199]), bytes([54]))
    # Beyond TinyKV: the whole answer, in key order, no errors.
    assert [(p["key"], p["value"][0], p["error"]) for p in pairs] == [
        (bytes(k), v, None)
        for k, v in (
            ([1], 50),
            ([1, 23], 55),
            ([3], 51),
            ([3, 45], 56),
            ([3, 46], 57),
            ([3, 47], 58),
            ([3, 48], 59),
            ([4], 52),
            ([120], 53),
            ([150], 42),
            ([199], 54),
        )
    ]


def test_scan_limit_4c(b: Builder) -> None:
    pairs = scan(builder_for_scan(b), [2], 6)
    assert len(pairs) == 6
    assert (pairs[0]["key"], pairs[0]["value"]) == (bytes([3]), bytes([51]))
    assert (pairs[5]["key"], pairs[5]["value"]) == (bytes([4]), bytes([52]))


def test_scan_deleted_4c(b: Builder) -> None:
    builder_for_scan(b)
    pairs1 = scan(b, [100], 10000, version=100)
    assert len(pairs1) == 3
    assert (pairs1[1]["key"], pairs1[1]["value"]) == (bytes([150]), bytes([42]))
    pairs2 = scan(b, [100], 10000, version=105)
    assert [p["key"] for p in pairs2] == [bytes([120]), bytes([199])]
    pairs3 = scan(b, [100], 10000, version=120)
    assert len(pairs3) == 3
    assert (pairs3[1]["key"], pairs3[1]["value"]) == (bytes([150]), bytes([64]))


def test_scan_reports_locked_keys(b: Builder) -> None:
    """Not in TinyKV: a lock at or before the scan's version is a pair with a locked error,
    including on a key with no committed version yet (its only trace is the lock)."""
    builder_for_scan(b)
    b.run(
        "KvPrewrite",
        {
            "mutations": [
                {"op": "put", "key": bytes([3, 46]), "value": b"x"},
                {"op": "put", "key": bytes([3, 50]), "value": b"new"},
            ],
            "primary_lock": bytes([3, 46]),
            "start_version": 130,
            "lock_ttl": 10,
        },
    )
    pairs = scan(b, [3, 45], 4, version=140)
    assert [p["key"] for p in pairs] == [
        bytes([3, 45]),
        bytes([3, 46]),
        bytes([3, 47]),
        bytes([3, 48]),
    ]
    assert pairs[1]["error"] is not None, "the locked key must come back with its lock"
    assert pairs[1]["error"]["locked"]["lock_version"] == 130 and pairs[1]["value"] is None
    pairs = scan(b, [3, 49], 2, version=140)
    assert [p["key"] for p in pairs] == [bytes([3, 50]), bytes([4])]
    assert pairs[0]["error"] is not None
    assert pairs[0]["error"]["locked"]["primary_lock"] == bytes([3, 46])
    # A scan older than the lock does not care about it.
    assert [p["key"] for p in scan(b, [3, 49], 2, version=125)] == [bytes([4]), bytes([4, 45])]


def test_scan_end_key(b: Builder) -> None:
    builder_for_scan(b)
    req = {"start_key": bytes([3]), "end_key": bytes([4]), "limit": 100, "version": 200}
    pairs = b.run("KvScan", req)["pairs"]
    assert [p["key"] for p in pairs] == [bytes([3])] + [bytes([3, k]) for k in (45, 46, 47, 48)]


def test_rollback_keeps_a_commit_at_the_same_ts(b: Builder) -> None:
    """Not in TinyKV: a rollback of txn 100 must not overwrite txn 90's commit made at ts 100."""
    b.init([kv(D, [3], [42], ts=90), kv(W, [3], [1, 0, 0, 0, 0, 0, 0, 0, 90], ts=100)])
    assert b.run("KvBatchRollback", b.rollback(bytes([3])))["error"] is None  # start ts 100
    b.assert_state((1, 0, 1), [kv(D, [3], ts=90), kv(W, [3], ts=100)])
    assert b.run("KvGet", {"key": b"\x03", "version": 200})["value"] == bytes([42])
    late = {"mutations": [{"op": "put", "key": b"\x03", "value": b"x"}], "start_version": 100}
    assert b.run("KvPrewrite", late)["errors"][0]["conflict"]["conflict_ts"] == 100
