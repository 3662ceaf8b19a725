"""Percolator's handlers on one row at a time: the paper's design over a plain KV.

The Percolator paper keeps a key's lock, write records and data in one
Bigtable row and relies on Bigtable's single-row transactions; every step of
the protocol touches one row (prewrite locks each key on its own, the primary's
row is the commit point). So a store with nothing but a linearizable
read/compare-and-set per key -- Maelstrom's lin-kv -- is enough to run the
protocol: keep each user key's whole row as one value and apply each handler
as read, compute, compare-and-set (retry if someone else changed the row).

This module is the pure part: the handlers' semantics (as TinyKV's kvrpcpb
handlers, restricted to one key) as functions from a row to a new row and a
response, plus `RowServer`, the dict API of `server.Server` over any
read/cas map. `node.py` runs the same functions against lin-kv.

A row is JSON: {"lock": {...} | None, "writes": [[commit_ts, start_ts, kind]...]
(newest first), "data": {start_ts: value}}; bytes are stored as latin-1 text.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

Row = dict[str, Any]
PUT, DELETE, ROLLBACK, LOCK = "put", "del", "rollback", "lock"


def empty_row() -> Row:
    return {"lock": None, "writes": [], "data": {}}


def text(b: bytes) -> str:
    return b.decode("latin-1")


def raw(s: str) -> bytes:
    return s.encode("latin-1")


def _locked(row: Row, key: str) -> dict[str, Any]:
    lock = row["lock"]
    return {"locked": {"primary_lock": raw(lock["primary"]), "lock_version": lock["ts"],
                       "key": raw(key), "lock_ttl": lock["ttl"]}}


def _write_of(row: Row, start_ts: int) -> list[Any] | None:
    """The write record this transaction left on the row (commit or rollback), if any."""
    return next((w for w in row["writes"] if w[1] == start_ts), None)


def get(row: Row, key: str, ts: int) -> dict[str, Any]:
    """kv_get: a lock at or below the snapshot blocks (its txn may commit below ts)."""
    lock = row["lock"]
    if lock is not None and lock["ts"] <= ts:
        return {"value": None, "not_found": False, "error": _locked(row, key)}
    for commit_ts, start_ts, kind in row["writes"]:
        if commit_ts <= ts and kind in (PUT, DELETE):
            if kind == DELETE:
                break
            return {"value": raw(row["data"][str(start_ts)]), "not_found": False, "error": None}
    return {"value": None, "not_found": True, "error": None}


def prewrite(row: Row, key: str, mutation: dict[str, Any], primary: str, start_ts: int, ttl: int,
             now_ms: int) -> tuple[Row, dict[str, Any] | None]:
    """Lock the key for start_ts; a write at or after start_ts (including a rollback
    record for this very txn) is a conflict, another txn's lock is `locked`."""
    newest = row["writes"][0] if row["writes"] else None
    if newest is not None and newest[0] >= start_ts:
        return row, {"conflict": {"start_ts": start_ts, "conflict_ts": newest[0],
                                  "key": raw(key), "primary": raw(primary)}}
    if row["lock"] is not None and row["lock"]["ts"] != start_ts:
        return row, _locked(row, key)
    new = copy.deepcopy(row)
    kind = {"put": PUT, "del": DELETE}.get(mutation["op"], LOCK)
    new["lock"] = {"primary": primary, "ts": start_ts, "ttl": ttl, "kind": kind, "at": now_ms}
    if kind == PUT:
        new["data"][str(start_ts)] = text(mutation.get("value") or b"")
    return new, None


def commit(row: Row, start_ts: int, commit_ts: int) -> tuple[Row, dict[str, Any] | None]:
    """Turn this txn's lock into a write record; repeating a done commit succeeds."""
    lock = row["lock"]
    if lock is None or lock["ts"] != start_ts:
        done = _write_of(row, start_ts)
        if done is not None and done[2] != ROLLBACK:
            return row, None
        if done is not None:
            return row, {"abort": "transaction was rolled back"}
        if lock is not None:
            return row, {"retryable": f"locked by transaction {lock['ts']}, not {start_ts}"}
        return row, None  # never prewritten here: nothing to commit (TinyKV's CommitMissingPrewrite)
    new = copy.deepcopy(row)
    new["lock"] = None
    new["writes"] = sorted(new["writes"] + [[commit_ts, start_ts, lock["kind"]]], reverse=True)
    return new, None


def rollback(row: Row, start_ts: int) -> tuple[Row, dict[str, Any] | None]:
    """Remove this txn's lock and data and leave a rollback record, so a late
    prewrite or commit of the same txn fails; a committed txn cannot be rolled back."""
    done = _write_of(row, start_ts)
    if done is not None:
        return row, (None if done[2] == ROLLBACK else {"abort": "transaction already committed"})
    new = copy.deepcopy(row)
    if new["lock"] is not None and new["lock"]["ts"] == start_ts:
        new["lock"] = None
    new["data"].pop(str(start_ts), None)
    new["writes"] = sorted(new["writes"] + [[start_ts, start_ts, ROLLBACK]], reverse=True)
    return new, None


def check_txn_status(row: Row, lock_ts: int, now_ms: int) -> tuple[Row, dict[str, Any]]:
    """The primary's verdict on a txn: alive (its lock within TTL), committed, or
    rolled back -- rolling it back here if its lock expired or never arrived."""
    lock = row["lock"]
    if lock is not None and lock["ts"] == lock_ts:
        if now_ms <= lock["at"] + lock["ttl"]:  # as TinyKV: expired only once past at + ttl
            return row, {"lock_ttl": lock["ttl"], "commit_version": 0, "action": "no_action"}
        new, _ = rollback(row, lock_ts)
        return new, {"lock_ttl": 0, "commit_version": 0, "action": "ttl_expire_rollback"}
    done = _write_of(row, lock_ts)
    if done is not None:
        return row, {"lock_ttl": 0, "commit_version": 0 if done[2] == ROLLBACK else done[0],
                     "action": "no_action"}
    new, _ = rollback(row, lock_ts)
    return new, {"lock_ttl": 0, "commit_version": 0, "action": "lock_not_exist_rollback"}


def resolve(row: Row, start_ts: int, commit_ts: int) -> tuple[Row, dict[str, Any] | None]:
    """Finish someone else's txn on this row: commit at commit_ts, or roll back when 0."""
    lock = row["lock"]
    if lock is None or lock["ts"] != start_ts:
        return row, None
    return commit(row, start_ts, commit_ts) if commit_ts else rollback(row, start_ts)


class RowServer:
    """The Server's dict API over a map of rows with read and compare-and-set.

    `read(key) -> row | None` and `cas(key, old, new) -> bool` are the only
    storage operations; `clock_ms(ts)` gives the time TTLs are judged by
    (TinyKV: the physical part of the timestamp). kv_resolve_lock needs the
    keys to resolve (TiKV's "resolve lock lite"): a row store cannot scan for
    all of a transaction's locks.
    """

    def __init__(self, read: Callable[[str], Row | None], cas: Callable[[str, Row | None, Row], bool],
                 clock_ms: Callable[[int], int]) -> None:
        self.read, self.cas, self.clock_ms = read, cas, clock_ms

    def _update(self, key: str, fn: Callable[[Row], tuple[Row, Any]]) -> Any:
        while True:
            old = self.read(key)
            new, out = fn(old if old is not None else empty_row())
            if new == (old if old is not None else empty_row()) or self.cas(key, old, new):
                return out

    def kv_get(self, req: dict[str, Any]) -> dict[str, Any]:
        key = text(req["key"])
        return get(self.read(key) or empty_row(), key, req["version"])

    def kv_prewrite(self, req: dict[str, Any]) -> dict[str, Any]:
        primary, start = text(req["primary_lock"]), req["start_version"]
        now = self.clock_ms(start)
        errors = []
        for m in req["mutations"]:
            key = text(m["key"])
            err = self._update(key, lambda row, key=key, m=m: prewrite(
                row, key, m, primary, start, req.get("lock_ttl", 0), now))
            if err:
                errors.append(err)
        return {"errors": errors}

    def kv_commit(self, req: dict[str, Any]) -> dict[str, Any]:
        for k in req["keys"]:
            err = self._update(text(k), lambda row: commit(row, req["start_version"], req["commit_version"]))
            if err:
                return {"error": err}
        return {"error": None}

    def kv_batch_rollback(self, req: dict[str, Any]) -> dict[str, Any]:
        for k in req["keys"]:
            err = self._update(text(k), lambda row: rollback(row, req["start_version"]))
            if err:
                return {"error": err}
        return {"error": None}

    def kv_check_txn_status(self, req: dict[str, Any]) -> dict[str, Any]:
        now = self.clock_ms(req["current_ts"])
        return self._update(text(req["primary_key"]),  # type: ignore[no-any-return]
                            lambda row: check_txn_status(row, req["lock_ts"], now))

    def kv_resolve_lock(self, req: dict[str, Any]) -> dict[str, Any]:
        for k in req.get("keys") or []:
            self._update(text(k), lambda row: resolve(row, req["start_version"], req["commit_version"]))
        return {"error": None}


def memory_row_server(clock_ms: Callable[[int], int]) -> tuple[RowServer, dict[str, Row]]:
    """A RowServer over a dict (tests): its reads and cas are trivially linearizable."""
    rows: dict[str, Row] = {}

    def cas(key: str, old: Row | None, new: Row) -> bool:
        if rows.get(key) != old:
            return False
        rows[key] = copy.deepcopy(new)
        return True

    return RowServer(lambda k: copy.deepcopy(rows.get(k)), cas, clock_ms), rows
