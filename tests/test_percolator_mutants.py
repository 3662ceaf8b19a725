"""Every storage-side mutant fails a named test of ours; the real server passes the same test.

The tests are the ones in tests/test_percolator_4b.py and _4c.py, run unchanged against a
Builder whose server is the mutant. A second check per mutant replays the concrete anomaly it
lets through, so the failure is about the guarantee and not an incidental assertion.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from distlab.systems.percolator.server import Server
from distlab.systems.percolator.server_mutants import (
    MUTANTS,
    IgnoreTtlServer,
    LaxCommitTsServer,
    ReadsIgnoreLocksServer,
    ScanSkipsLockedServer,
    UnrecordedRollbackServer,
)
from distlab.systems.percolator.storage import MemoryStorage
from tests import test_percolator_4b as t4b
from tests import test_percolator_4c as t4c
from tests.percolator_builder import Builder

CAUGHT_BY: list[tuple[type[Server], Callable[[Builder], None]]] = [
    (ReadsIgnoreLocksServer, t4b.test_get_locked_4b),
    (ReadsIgnoreLocksServer, t4c.test_scan_reports_locked_keys),
    (UnrecordedRollbackServer, t4c.test_rollback_4c),
    (UnrecordedRollbackServer, t4c.test_prewrite_after_rollback_is_refused),
    (UnrecordedRollbackServer, t4c.test_check_txn_status_no_lock_no_write_4c),
    (LaxCommitTsServer, t4b.test_commit_ts_must_follow_start_ts),
    (IgnoreTtlServer, t4c.test_check_txn_status_ttl_not_expired_4c),
    (IgnoreTtlServer, t4c.test_check_txn_status_ttl_boundary),
    (ScanSkipsLockedServer, t4c.test_scan_reports_locked_keys),
]


def _ids() -> list[str]:
    return [f"{cls.__name__}-{fn.__name__}" for cls, fn in CAUGHT_BY]


def test_every_mutant_is_listed() -> None:
    assert {cls for cls, _ in CAUGHT_BY} == set(MUTANTS.values())


@pytest.mark.parametrize(("mutant", "test"), CAUGHT_BY, ids=_ids())
def test_mutant_caught(mutant: type[Server], test: Callable[[Builder], None]) -> None:
    test(Builder(MemoryStorage(), Server))  # the real server passes
    with pytest.raises(AssertionError):
        test(Builder(MemoryStorage(), mutant))


# -- the anomaly each mutant allows, end to end ---------------------------------------------------


def prewrite(
    server: Server, start: int, *kvs: tuple[bytes, bytes], primary: bytes, ttl: int = 3000
) -> list:
    muts = [{"op": "put", "key": k, "value": v} for k, v in kvs]
    req = {"mutations": muts, "primary_lock": primary, "start_version": start, "lock_ttl": ttl}
    return server.kv_prewrite(req)["errors"]


def commit(server: Server, start: int, commit_ts: int, *keys: bytes) -> dict | None:
    return server.kv_commit(
        {"keys": list(keys), "start_version": start, "commit_version": commit_ts}
    )["error"]


@pytest.mark.parametrize("cls", [Server, ReadsIgnoreLocksServer])
def test_anomaly_read_past_lock(cls: type[Server]) -> None:
    """T1 writes x at start 10, commits at 20; a reader at 30 reads x between prewrite and commit."""
    s = cls()
    assert prewrite(s, 5, (b"x", b"old"), primary=b"x") == [] and commit(s, 5, 6, b"x") is None
    assert prewrite(s, 10, (b"x", b"new"), primary=b"x") == []
    first = s.kv_get({"key": b"x", "version": 30})
    assert commit(s, 10, 20, b"x") is None
    second = s.kv_get({"key": b"x", "version": 30})
    unrepeatable = first["error"] is None and first["value"] != second["value"]
    assert unrepeatable == (cls is ReadsIgnoreLocksServer)


@pytest.mark.parametrize("cls", [Server, UnrecordedRollbackServer])
def test_anomaly_late_prewrite_after_rollback(cls: type[Server]) -> None:
    """A reader finds T's primary unlocked and rolls T back; T's delayed prewrite then arrives."""
    s = cls()
    status = s.kv_check_txn_status({"primary_key": b"p", "lock_ts": 10, "current_ts": 50})
    assert status["action"] == "lock_not_exist_rollback"
    late_ok = prewrite(s, 10, (b"p", b"v"), primary=b"p") == []
    committed = late_ok and commit(s, 10, 60, b"p") is None
    assert committed == (cls is UnrecordedRollbackServer)  # a transaction declared dead commits


@pytest.mark.parametrize("cls", [Server, LaxCommitTsServer])
def test_anomaly_commit_before_start(cls: type[Server]) -> None:
    s = cls()
    assert prewrite(s, 10, (b"k", b"v"), primary=b"k") == []
    accepted = commit(s, 10, 9, b"k") is None
    assert accepted == (cls is LaxCommitTsServer)
    # Under the mutant the write is visible at ts 9, a snapshot taken before T even began.
    assert (s.kv_get({"key": b"k", "version": 9})["value"] == b"v") == (cls is LaxCommitTsServer)


@pytest.mark.parametrize("cls", [Server, IgnoreTtlServer])
def test_anomaly_live_transaction_rolled_back(cls: type[Server]) -> None:
    s = cls()
    start = 1000 << 18
    assert prewrite(s, start, (b"p", b"v"), primary=b"p", ttl=3000) == []
    s.kv_check_txn_status({"primary_key": b"p", "lock_ts": start, "current_ts": (1001 << 18)})
    aborted = commit(s, start, start + 5, b"p") is not None
    assert aborted == (cls is IgnoreTtlServer)  # 1 ms into a 3 s TTL


@pytest.mark.parametrize("cls", [Server, ScanSkipsLockedServer])
def test_anomaly_scan_misses_insert(cls: type[Server]) -> None:
    s = cls()
    assert prewrite(s, 10, (b"a", b"1"), (b"b", b"2"), primary=b"a") == []
    pairs = s.kv_scan({"start_key": b"", "limit": 10, "version": 30})["pairs"]
    assert commit(s, 10, 20, b"a", b"b") is None  # commits below the scan's version
    missed = pairs == []
    assert missed == (cls is ScanSkipsLockedServer)
