"""TinyKV project 4B (kv/transaction/commands4b_test.go): KvGet, KvPrewrite, KvCommit.

Same names, seeds and expectations as TinyKV's, on the memory and RocksDB engines; after each
request the whole store is compared (``Builder.assert_state``), not only the entries TinyKV
names. Literal lock/write byte arrays are TinyKV's (Lock: primary ++ kind ++ be64 ts ++ be64 ttl;
Write: kind ++ be64 start_ts).
"""

from __future__ import annotations

import pytest

from distlab.systems.percolator.storage import CF_DEFAULT as D
from distlab.systems.percolator.storage import CF_LOCK as L
from distlab.systems.percolator.storage import CF_WRITE as W
from tests.percolator_builder import ENGINES, TS_MAX, Builder, kv, make_storage, mutation


@pytest.fixture(params=ENGINES)
def b(request, tmp_path):
    s = make_storage(request.param, tmp_path)
    yield Builder(s)
    s.close()


def put_at(start: int) -> list[int]:
    """A Put write record for ``start`` < 256, as TinyKV's tests spell it."""
    return [1, 0, 0, 0, 0, 0, 0, 0, start]


def lock_bytes(
    ts: int, primary: list[int] = (1,), kind: int = 1, ttl: list[int] = (0,) * 8
) -> list[int]:
    return [*primary, kind, 0, 0, 0, 0, 0, 0, 0, ts, *ttl]


def get(b: Builder, key: int, version: int) -> dict:
    return b.run("KvGet", {"key": bytes([key]), "version": version})


def test_get_value_4b(b: Builder) -> None:
    b.init([kv(D, [99], [42], ts=50), kv(W, [99], put_at(50), ts=54)])
    resp = get(b, 99, TS_MAX)
    assert resp["error"] is None and resp["value"] == bytes([42]) and not resp["not_found"]


def test_get_value_ts_4b(b: Builder) -> None:
    b.init([kv(D, [99], [42], ts=50), kv(W, [99], put_at(50), ts=54)])
    for _ in range(3):
        resp = get(b, 99, 100)
        assert resp["error"] is None and resp["value"] == bytes([42])


def test_get_empty_4b(b: Builder) -> None:
    resp = get(b, 100, TS_MAX)
    assert resp["error"] is None and resp["not_found"] and resp["value"] is None


def test_get_none_4b(b: Builder) -> None:
    b.init(
        [
            kv(D, [99], [42], ts=50),
            kv(W, [99], put_at(50), ts=54),
            kv(D, [101], [42], ts=50),
            kv(W, [101], put_at(50), ts=54),
        ]
    )
    resp = get(b, 100, TS_MAX)
    assert resp["error"] is None and resp["not_found"]


def test_get_versions_4b(b: Builder) -> None:
    b.init(
        [
            kv(D, [99], [42], ts=50),
            kv(W, [99], put_at(50), ts=54),
            kv(D, [99], [43], ts=60),
            kv(W, [99], put_at(60), ts=66),
            kv(D, [99], [44], ts=120),
            kv(W, [99], put_at(120), ts=122),
        ]
    )
    expect = {40: None, 56: 42, 60: 42, 65: 42, 66: 43, 100: 43}
    for version, value in expect.items():
        resp = get(b, 99, version)
        assert resp["error"] is None
        assert resp["value"] == (None if value is None else bytes([value])), version
        assert resp["not_found"] == (value is None)


def test_get_deleted_4b(b: Builder) -> None:
    b.init(
        [
            kv(D, [99], [42], ts=50),
            kv(W, [99], put_at(50), ts=54),
            kv(D, [99], None, ts=60),
            kv(W, [99], [2, 0, 0, 0, 0, 0, 0, 0, 60], ts=66),
            kv(D, [99], [44], ts=120),
            kv(W, [99], put_at(120), ts=122),
        ]
    )
    expect = {54: 42, 60: 42, 65: 42, 66: None, 67: None, 122: 44}
    for version, value in expect.items():
        resp = get(b, 99, version)
        assert resp["error"] is None
        assert resp["value"] == (None if value is None else bytes([value])), version
        assert resp["not_found"] == (value is None)


def test_get_locked_4b(b: Builder) -> None:
    b.init(
        [
            kv(D, [99], [42], ts=50),
            kv(W, [99], put_at(50), ts=54),
            kv(L, [99], [99, 1, 0, 0, 0, 0, 0, 0, 0, 200, 0, 0, 0, 0, 0, 0, 0, 0]),
        ]
    )
    resp0 = get(b, 99, 55)
    assert resp0["error"] is None and resp0["value"] == bytes([42])
    resp1 = get(b, 99, 300)
    assert resp1["error"] is not None, "a read past a lock from ts 200 must report the lock"
    info = resp1["error"]["locked"]
    assert info == {
        "key": bytes([99]),
        "primary_lock": bytes([99]),
        "lock_version": 200,
        "lock_ttl": 0,
    }
    b.assert_state((1, 1, 1))  # reads change nothing


def test_empty_prewrite_4b(b: Builder) -> None:
    resp = b.run("KvPrewrite", b.prewrite())
    assert resp["errors"] == []
    b.assert_state((0, 0, 0))


def test_single_prewrite_4b(b: Builder) -> None:
    cmd = b.prewrite(mutation(3, [42], "put"), ttl=1000)
    resp = b.run("KvPrewrite", cmd)
    assert resp["errors"] == []
    b.assert_state(
        (1, 1, 0),
        [
            kv(D, [3], [42]),
            # ttl 1000 = 0x03E8 -> [..., 3, 232]
            kv(L, [3], [1, 1, 0, 0, 0, 0, 0, 0, 0, b.ts(), 0, 0, 0, 0, 0, 0, 3, 232]),
        ],
    )


def test_prewrite_locked_4b(b: Builder) -> None:
    cmd = b.prewrite(mutation(3, [42], "put"))
    cmd2 = b.prewrite(mutation(3, [53], "put"))
    assert b.run("KvPrewrite", cmd)["errors"] == []
    errors = b.run("KvPrewrite", cmd2)["errors"]
    assert len(errors) == 1 and errors[0]["locked"]["lock_version"] == 100
    b.assert_state((1, 1, 0), [kv(D, [3], [42], ts=100), kv(L, [3], lock_bytes(100))])


def test_prewrite_written_4b(b: Builder) -> None:
    cmd = b.prewrite(mutation(3, [42], "put"))
    b.init([kv(D, [3], [5], ts=80), kv(W, [3], put_at(80), ts=101)])
    errors = b.run("KvPrewrite", cmd)["errors"]
    assert len(errors) == 1
    assert errors[0]["conflict"] == {
        "start_ts": 100,
        "conflict_ts": 101,
        "key": bytes([3]),
        "primary": bytes([1]),
    }
    b.assert_state((1, 0, 1), [kv(D, [3], ts=80)])


def test_prewrite_written_no_conflict_4b(b: Builder) -> None:
    cmd = b.prewrite(mutation(3, [42], "put"))
    b.init([kv(D, [3], [5], ts=80), kv(W, [3], put_at(80), ts=90)])
    assert b.run("KvPrewrite", cmd)["errors"] == []
    b.assert_state(
        (2, 1, 1),
        [kv(D, [3], ts=80), kv(D, [3], [42]), kv(L, [3], lock_bytes(b.ts()))],
    )


def test_multiple_prewrites_4b(b: Builder) -> None:
    cmd = b.prewrite(mutation(3, [42], "put"))
    cmd2 = b.prewrite(mutation(4, [53], "put"))
    assert b.run("KvPrewrite", cmd)["errors"] == []
    assert b.run("KvPrewrite", cmd2)["errors"] == []
    b.assert_state(
        (2, 2, 0),
        [
            kv(D, [3], [42], ts=100),
            kv(L, [3], lock_bytes(100)),
            kv(D, [4], [53], ts=101),
            kv(L, [4], lock_bytes(101)),
        ],
    )


def test_prewrite_overwrite_4b(b: Builder) -> None:
    cmd = b.prewrite(mutation(3, [42], "put"), mutation(3, [45], "put"))
    assert b.run("KvPrewrite", cmd)["errors"] == []
    b.assert_state((1, 1, 0), [kv(D, [3], [45]), kv(L, [3], lock_bytes(b.ts()))])


def test_prewrite_multiple_4b(b: Builder) -> None:
    cmd = b.prewrite(
        mutation(3, [42], "put"),
        mutation(4, [43], "put"),
        mutation(5, [44], "put"),
        mutation(4, None, "del"),
        mutation(4, [1, 3, 5], "put"),
        mutation(255, [45], "put"),
    )
    assert b.run("KvPrewrite", cmd)["errors"] == []
    b.assert_state(
        (4, 4, 0),
        [
            kv(D, [3], [42]),
            kv(D, [4], [1, 3, 5]),
            kv(D, [5], [44]),
            kv(D, [255], [45]),
            *(kv(L, [k], lock_bytes(b.ts())) for k in (3, 4, 5, 255)),
        ],
    )


def test_prewrite_delete_and_lock_ops(b: Builder) -> None:
    """Not in TinyKV: a delete stages no value, a lock mutation locks without touching the value."""
    cmd = b.prewrite(mutation(3, None, "del"), mutation(4, None, "lock"))
    assert b.run("KvPrewrite", cmd)["errors"] == []
    b.assert_state(
        (0, 2, 0), [kv(L, [3], lock_bytes(b.ts(), kind=2)), kv(L, [4], lock_bytes(b.ts(), kind=4))]
    )
    assert (
        b.run(
            "KvCommit", {"keys": [b"\x03", b"\x04"], "start_version": 100, "commit_version": 105}
        )["error"]
        is None
    )
    b.assert_state(
        (0, 0, 2),
        [
            kv(W, [3], [2, 0, 0, 0, 0, 0, 0, 0, 100], ts=105),
            kv(W, [4], [4, 0, 0, 0, 0, 0, 0, 0, 100], ts=105),
        ],
    )


def test_prewrite_conflict_changes_nothing_for_other_keys(b: Builder) -> None:
    """A prewrite with one failing key writes none of its keys (the request is atomic)."""
    cmd = b.prewrite(mutation(2, [7], "put"), mutation(3, [42], "put"))
    b.init([kv(D, [3], [5], ts=80), kv(W, [3], put_at(80), ts=101)])
    assert len(b.run("KvPrewrite", cmd)["errors"]) == 1
    b.assert_state((1, 0, 1))


def test_empty_commit_4b(b: Builder) -> None:
    assert b.run("KvCommit", b.commit())["error"] is None
    b.assert_state((0, 0, 0))


def test_single_commit_4b(b: Builder) -> None:
    cmd = b.commit(bytes([3]))
    b.init([kv(D, [3], [42]), kv(L, [3], [1, 0, 0, 0, 0, 0, 0, 0, b.ts(), 0, 0, 0, 0, 0, 0, 0, 0])])
    assert b.run("KvCommit", cmd)["error"] is None
    b.assert_state((1, 0, 1), [kv(W, [3], put_at(b.ts()), ts=110), kv(D, [3])], gone=[kv(L, [3])])


def test_commit_overwrite_4b(b: Builder) -> None:
    cmd = b.commit(bytes([3]))
    b.init(
        [
            kv(D, [3], [15], ts=80),
            kv(W, [3], put_at(80), ts=84),
            kv(D, [3], [42]),
            kv(L, [3], lock_bytes(b.ts())),
        ]
    )
    assert b.run("KvCommit", cmd)["error"] is None
    b.assert_state((2, 0, 2), [kv(W, [3], put_at(b.ts()), ts=110), kv(D, [3])], gone=[kv(L, [3])])


def test_commit_multiple_keys_4b(b: Builder) -> None:
    cmd = b.commit(bytes([3]), bytes([12, 4, 0]), bytes([15]))
    b.init(
        [
            # Current, pre-written.
            kv(D, [3], [42]),
            kv(L, [3], lock_bytes(b.ts())),
            kv(D, [12, 4, 0], [1, 1, 0, 0, 1, 5]),
            kv(L, [12, 4, 0], lock_bytes(b.ts())),
            kv(D, [15], [0]),
            kv(L, [15], lock_bytes(b.ts())),
            # Some committed data.
            kv(D, [4], [15], ts=80),
            kv(W, [4], put_at(80), ts=84),
            kv(D, [3, 0], [150], ts=80),
            kv(W, [3, 0], put_at(80), ts=84),
            # Another pre-written transaction.
            kv(D, [2], [0, 0, 0, 8], ts=99),
            kv(L, [2], [1, 2, 0, 0, 0, 0, 0, 0, 0, 99, 0, 0, 0, 0, 0, 0, 0, 0]),
            kv(D, [43, 6], [1, 1, 0, 0, 1, 5], ts=99),
            kv(L, [43, 6], [1, 2, 0, 0, 0, 0, 0, 0, 0, 99, 0, 0, 0, 0, 0, 0, 0, 0]),
        ]
    )
    assert b.run("KvCommit", cmd)["error"] is None
    b.assert_state(
        (7, 2, 5),
        [
            kv(W, [3], put_at(b.ts()), ts=110),
            kv(W, [12, 4, 0], put_at(b.ts()), ts=110),
            kv(W, [15], put_at(b.ts()), ts=110),
            kv(D, [4], ts=80),
            kv(W, [4], ts=84),
            kv(D, [3, 0], ts=80),
            kv(W, [3, 0], ts=84),
            kv(D, [2], ts=99),
            kv(L, [2]),
            kv(D, [43, 6], ts=99),
            kv(L, [43, 6]),
        ],
        gone=[kv(L, [3]), kv(L, [12, 4, 0]), kv(L, [15])],
    )


def test_recommit_key_4b(b: Builder) -> None:
    cmd = b.commit(bytes([3]), bytes([3]))
    b.init([kv(D, [3], [42]), kv(L, [3], lock_bytes(b.ts()))])
    assert b.run("KvCommit", cmd)["error"] is None
    b.assert_state((1, 0, 1), [kv(W, [3], put_at(b.ts()), ts=110), kv(D, [3])], gone=[kv(L, [3])])


def test_commit_conflict_rollback_4b(b: Builder) -> None:
    cmd = b.commit(bytes([3]))
    b.init([kv(W, [3], [3, 0, 0, 0, 0, 0, 0, 0, b.ts()], ts=110)])
    err = b.run("KvCommit", cmd)["error"]
    assert err is not None and "abort" in err
    b.assert_state((0, 0, 1), [kv(W, [3], ts=110)])


def test_commit_conflict_race_4b(b: Builder) -> None:
    cmd = b.commit(bytes([3]))
    b.init(
        [
            kv(D, [3], [110], ts=90),
            kv(L, [3], [1, 3, 0, 0, 0, 0, 0, 0, 0, 90, 0, 0, 0, 0, 0, 0, 0, 0]),
        ]
    )
    err = b.run("KvCommit", cmd)["error"]
    assert err is not None and err["retryable"]
    b.assert_state((1, 1, 0), [kv(L, [3]), kv(D, [3], ts=90)])


def test_commit_conflict_repeat_4b(b: Builder) -> None:
    cmd = b.commit(bytes([3]))
    b.init([kv(D, [3], [42]), kv(W, [3], put_at(b.ts()), ts=110)])
    assert b.run("KvCommit", cmd)["error"] is None
    b.assert_state((1, 0, 1), [kv(W, [3], ts=110), kv(D, [3])])


def test_commit_missing_prewrite_4b(b: Builder) -> None:
    cmd = b.commit(bytes([3]))
    b.init(
        [
            kv(D, [4], [15], ts=80),
            kv(W, [4], put_at(80), ts=84),
            kv(D, [3, 0], [150], ts=80),
            kv(W, [3, 0], put_at(80), ts=84),
        ]
    )
    assert b.run("KvCommit", cmd)["error"] is None
    b.assert_state((2, 0, 2))


def test_commit_ts_must_follow_start_ts(b: Builder) -> None:
    """Not in TinyKV (TiKV's InvalidTxnTso): commit_version <= start_version is refused."""
    b.init([kv(D, [3], [42], ts=100), kv(L, [3], lock_bytes(100))])
    for commit_ts in (100, 99):
        err = b.run(
            "KvCommit", {"keys": [b"\x03"], "start_version": 100, "commit_version": commit_ts}
        )["error"]
        assert err is not None and "abort" in err, f"commit at {commit_ts} after start 100 accepted"
    b.assert_state((1, 1, 0))


def test_commit_with_one_bad_key_writes_nothing(b: Builder) -> None:
    """All-or-nothing per request: key 3 is ours, key 4 was rolled back, so neither commits."""
    b.init(
        [
            kv(D, [3], [42], ts=100),
            kv(L, [3], lock_bytes(100)),
            kv(W, [4], [3, 0, 0, 0, 0, 0, 0, 0, 100], ts=100),
        ]
    )
    err = b.run(
        "KvCommit", {"keys": [b"\x03", b"\x04"], "start_version": 100, "commit_version": 110}
    )["error"]
    assert err is not None and "abort" in err
    b.assert_state((1, 1, 1))


def test_get_blocked_by_every_lock_kind(b: Builder) -> None:
    """Not in TinyKV's tests: put, delete and lock-only locks all block a later read."""
    b.init([kv(D, [99], [42], ts=50), kv(W, [99], put_at(50), ts=54)])
    for op in ("lock", "del", "put"):
        b.run("KvPrewrite", b.prewrite(mutation(99, [1], op), primary=bytes([99])))
        resp = get(b, 99, 300)
        assert resp["error"] is not None and resp["error"]["locked"]["lock_version"] == b.prev_ts
        b.run("KvBatchRollback", {"keys": [bytes([99])], "start_version": b.prev_ts})
