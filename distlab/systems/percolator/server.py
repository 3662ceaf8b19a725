"""Percolator's storage-side handlers (TinyKV's KvGet ... KvResolveLock) over plain dicts.

Each handler is one atomic step: latch the keys it may write, read through an :class:`MvccTxn`,
decide, and hand the engine one batch. Requests and responses are dicts shaped like TinyKV's
kvrpcpb messages (field names as the proto's, in snake case); errors a client must act on come
back as KeyError dicts::

    {"locked": {"primary_lock", "lock_version", "key", "lock_ttl"}}   back off, resolve, retry
    {"conflict": {"start_ts", "conflict_ts", "key", "primary"}}      a newer write: restart
    {"retryable": str}                                               try again later
    {"abort": str}                                                   the transaction is over

The hooks ``_read_blocked_by``, ``_record_rollback``, ``_commit_ts_ok``, ``_lock_expired`` and
``_scan_locked`` are the single places where each guarantee is enforced, which is also what lets
:mod:`distlab.systems.percolator.server_mutants` break exactly one guarantee at a time.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

from distlab.systems.percolator.codec import (
    decode_user_key,
    encode_bytes,
    encode_key,
    physical_time,
)
from distlab.systems.percolator.latches import Latches
from distlab.systems.percolator.mvcc import Lock, MvccTxn, Write, WriteKind
from distlab.systems.percolator.storage import (
    CF_DEFAULT,
    CF_LOCK,
    CF_WRITE,
    MemoryStorage,
    Modify,
    Storage,
)

__all__ = ["ACTIONS", "METHODS", "Server"]

ACTIONS = ("no_action", "ttl_expire_rollback", "lock_not_exist_rollback")
_OPS = {
    "put": WriteKind.PUT,
    "del": WriteKind.DELETE,
    "delete": WriteKind.DELETE,
    "lock": WriteKind.LOCK,
}

KeyErr = dict[str, Any]


def _b(x: Any) -> bytes:
    """Keys and values are bytes; accept str too so JSON-ish callers need no ceremony."""
    if isinstance(x, str):
        return x.encode()
    return bytes(x) if x is not None else b""


def _unique(keys: list[Any]) -> list[bytes]:
    """Keys in first-seen order, duplicates dropped (TinyKV's tests send duplicates)."""
    seen: dict[bytes, None] = {}
    for k in keys:
        seen.setdefault(_b(k), None)
    return list(seen)


class Server:
    """The transactional KV API of one store (one region), sans-I/O and thread-safe."""

    def __init__(self, storage: Storage | None = None) -> None:
        self.storage: Storage = storage if storage is not None else MemoryStorage()
        self.latches = Latches()

    # -- plumbing -----------------------------------------------------------------------------
    def handle(self, method: str, request: dict) -> dict:
        """Dispatch by name: ``kv_get`` / ``KvGet`` / ``get`` all reach :meth:`kv_get`."""
        fn = METHODS.get(method) or METHODS.get(_snake(method))
        if fn is None:
            raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
        return fn(self, request)

    def _apply(self, txn: MvccTxn, latched: frozenset[bytes]) -> None:
        """Write the request's batch; the validation hook checks every key written was latched."""
        if not txn.writes:
            return
        if self.latches.validation is not None:
            touched = [m.key if m.cf == CF_LOCK else decode_user_key(m.key) for m in txn.writes]
            self.latches.validation(latched, touched)
        self.storage.write(txn.writes)

    # -- the guarantees (overridden one at a time by the mutants) --------------------------------
    def _read_blocked_by(self, lock: Lock | None, version: int) -> bool:
        """A lock from a transaction that started at or before the read may commit before it.

        Every kind blocks, LOCK included (TinyKV's IsLockedFor). TiKV lets reads pass a
        LOCK-kind lock, since committing it changes no value; rows.py (the node's per-row
        handlers) mirrors this rule, so the two would have to change together.
        """
        return lock is not None and lock.ts <= version

    def _record_rollback(self, txn: MvccTxn, key: bytes) -> None:
        """Leave a rollback record at start_ts so a late prewrite or commit of it is refused.

        If another transaction committed this key *at* our start_ts (timestamps from different
        oracles, or a restored one), its record already sits at that slot; overwriting it would
        erase a committed write. We keep it: it is >= start_ts, so it refuses a late prewrite
        just as well (TiKV marks such a record "overlapped rollback" for the same reason).
        """
        existing = txn.reader.get_cf(CF_WRITE, encode_key(key, txn.start_ts))
        if existing is not None and Write.parse(existing).start_ts != txn.start_ts:
            return
        txn.put_write(key, txn.start_ts, Write(txn.start_ts, WriteKind.ROLLBACK))

    def _commit_ts_ok(self, start_ts: int, commit_ts: int) -> bool:
        """A commit at or before its own start would let it be read "before it happened"."""
        return commit_ts > start_ts

    def _lock_expired(self, lock: Lock, current_ts: int) -> bool:
        """TTL in ms since the lock's physical time; only then may another party roll it back."""
        return physical_time(lock.ts) + lock.ttl < physical_time(current_ts)

    def _scan_locked(self, key: bytes, lock: Lock) -> dict | None:
        """A scan that meets a blocking lock reports it in the pair, never silently skips the key."""
        return {"key": key, "value": None, "error": {"locked": lock.info(key)}}

    # -- raw API (TinyKV project 1): one column family, no transactions ---------------------------
    def raw_get(self, req: dict) -> dict:
        """The stored bytes at ``key`` in column family ``cf``, no MVCC decoding."""
        value = self.storage.reader().get_cf(req.get("cf", CF_DEFAULT), _b(req["key"]))
        return {"value": value, "not_found": value is None, "error": None}

    def raw_put(self, req: dict) -> dict:
        """Overwrite one raw entry; for tools and tests, it bypasses every transaction rule."""
        self.storage.write([Modify(req.get("cf", CF_DEFAULT), _b(req["key"]), _b(req["value"]))])
        return {"error": None}

    def raw_delete(self, req: dict) -> dict:
        """Delete one raw entry (absent is fine)."""
        self.storage.write([Modify(req.get("cf", CF_DEFAULT), _b(req["key"]), None)])
        return {"error": None}

    def raw_scan(self, req: dict) -> dict:
        """Up to ``limit`` raw entries of ``cf`` from ``start_key``, in byte order."""
        cf, limit = req.get("cf", CF_DEFAULT), int(req["limit"])
        it = self.storage.reader().iter_cf(cf, _b(req.get("start_key", b"")))
        kvs = [{"key": k, "value": v} for k, v in itertools.islice(it, max(limit, 0))]
        return {"kvs": kvs, "error": None}

    # -- reads ----------------------------------------------------------------------------------
    def kv_get(self, req: dict) -> dict:
        """The value visible at ``version``, or the lock that makes it unknowable yet."""
        key, version = _b(req["key"]), int(req["version"])
        txn = MvccTxn(self.storage.reader(), version)
        lock = txn.get_lock(key)  # one snapshot: the lock and the versions agree
        if self._read_blocked_by(lock, version):
            assert lock is not None
            return {"value": None, "not_found": False, "error": {"locked": lock.info(key)}}
        value = txn.get_value(key)
        return {"value": value, "not_found": value is None, "error": None}

    def kv_scan(self, req: dict) -> dict:
        """Up to ``limit`` visible pairs from ``start_key`` (optional ``end_key`` exclusive)."""
        start, limit, version = (
            _b(req.get("start_key", b"")),
            int(req["limit"]),
            int(req["version"]),
        )
        end = _b(req["end_key"]) if req.get("end_key") else None
        txn = MvccTxn(self.storage.reader(), version)
        pairs: list[dict] = []
        if limit <= 0:
            return {"pairs": pairs}
        for key in self._scan_keys(txn, start):
            if end is not None and key >= end:
                break
            lock = txn.get_lock(key)
            if self._read_blocked_by(lock, version):
                assert lock is not None
                pair = self._scan_locked(key, lock)
            else:
                value = txn.get_value(key)
                pair = None if value is None else {"key": key, "value": value, "error": None}
            if pair is not None:
                pairs.append(pair)
                if len(pairs) >= limit:
                    break
        return {"pairs": pairs}

    def _scan_keys(self, txn: MvccTxn, start: bytes) -> Iterator[bytes]:
        """Every user key >= start with a lock or a write record, ascending, each once.

        Locks must be merged in: a key whose only trace is a lock (a first insert still being
        committed) has to surface as a locked pair, or the scan would miss a committed write.
        """
        reader = txn.reader

        def next_write_key(seek: bytes) -> bytes | None:
            for enc, _ in reader.iter_cf(CF_WRITE, seek):
                return decode_user_key(enc)
            return None

        locks = (k for k, _ in reader.iter_cf(CF_LOCK, start))
        lk = next(locks, None)
        wk = next_write_key(encode_bytes(start))
        while lk is not None or wk is not None:
            key = min(k for k in (lk, wk) if k is not None)
            yield key
            if lk == key:
                lk = next(locks, None)
            if wk == key:
                # encode_key(key, 0) is key's oldest version; anything after it is a later key.
                wk = next_write_key(encode_key(key, 0) + b"\x00")

    # -- prewrite / commit ----------------------------------------------------------------------
    def kv_prewrite(self, req: dict) -> dict:
        """Lock every key and stage its value, or change nothing and say why for each key."""
        start_ts = int(req["start_version"])
        primary, ttl = _b(req.get("primary_lock", b"")), int(req.get("lock_ttl", 0))
        muts = req.get("mutations", [])
        keys = frozenset(_b(m["key"]) for m in muts)
        errors: list[KeyErr] = []
        with self.latches.hold(keys) as latched:
            txn = MvccTxn(self.storage.reader(), start_ts)
            for m in muts:
                key, op = _b(m["key"]), m.get("op", "put")
                if op not in _OPS:
                    raise ValueError(f"unknown mutation op {op!r}; expected put, del or lock")
                write, commit_ts = txn.most_recent_write(key)
                if write is not None and commit_ts >= start_ts:
                    # Someone committed (or rolled us back) at or after our snapshot: write-write
                    # conflict under snapshot isolation.
                    errors.append(
                        {
                            "conflict": {
                                "start_ts": start_ts,
                                "conflict_ts": commit_ts,
                                "key": key,
                                "primary": primary,
                            }
                        }
                    )
                    continue
                lock = txn.get_lock(key)
                if lock is not None and lock.ts != start_ts:
                    errors.append({"locked": lock.info(key)})
                    continue
                kind = _OPS[op]
                if kind == WriteKind.PUT:
                    txn.put_value(key, _b(m.get("value", b"")))
                elif kind == WriteKind.DELETE:
                    txn.delete_value(key)
                txn.put_lock(key, Lock(primary, start_ts, ttl, kind))
            if not errors:
                self._apply(txn, latched)
        return {"errors": errors}

    def kv_commit(self, req: dict) -> dict:
        """Turn this transaction's locks on ``keys`` into write records at commit_version."""
        start_ts, commit_ts = int(req["start_version"]), int(req["commit_version"])
        keys = _unique(req.get("keys", []))
        if not keys:
            return {"error": None}
        if not self._commit_ts_ok(start_ts, commit_ts):
            return {
                "error": {
                    "abort": f"commit_version {commit_ts} is not after start_version {start_ts}"
                }
            }
        with self.latches.hold(keys) as latched:
            txn = MvccTxn(self.storage.reader(), start_ts)
            for key in keys:
                err = self._commit_key(txn, key, commit_ts)
                if err is not None:
                    return {"error": err}
            self._apply(txn, latched)
        return {"error": None}

    def _commit_key(self, txn: MvccTxn, key: bytes, commit_ts: int) -> KeyErr | None:
        lock = txn.get_lock(key)
        if lock is None or lock.ts != txn.start_ts:
            write, _ = txn.current_write(key)
            if write is not None and write.kind == WriteKind.ROLLBACK:
                return {"abort": f"transaction {txn.start_ts} was rolled back on key {key!r}"}
            if write is not None:
                return None  # already committed: a repeated commit is a no-op
            if lock is not None:
                return {
                    "retryable": f"key {key!r} is locked by transaction {lock.ts}, not {txn.start_ts}"
                }
            return None  # no lock, no record (TinyKV's TestCommitMissingPrewrite4B): nothing to do
        txn.put_write(key, commit_ts, Write(txn.start_ts, lock.kind))
        txn.delete_lock(key)
        return None

    # -- rollback and lock resolution --------------------------------------------------------------
    def kv_batch_rollback(self, req: dict) -> dict:
        """Roll the transaction back on ``keys``; refused if any of them already committed."""
        start_ts = int(req["start_version"])
        keys = _unique(req.get("keys", []))
        with self.latches.hold(keys) as latched:
            txn = MvccTxn(self.storage.reader(), start_ts)
            for key in keys:
                err = self._rollback_key(txn, key)
                if err is not None:
                    return {"error": err}
            self._apply(txn, latched)
        return {"error": None}

    def _rollback_key(self, txn: MvccTxn, key: bytes) -> KeyErr | None:
        write, commit_ts = txn.current_write(key)
        if write is not None:
            if write.kind == WriteKind.ROLLBACK:
                return None  # already rolled back
            return {
                "abort": f"transaction {txn.start_ts} already committed key {key!r} at {commit_ts}"
            }
        lock = txn.get_lock(key)
        if lock is not None and lock.ts == txn.start_ts:
            txn.delete_value(key)
            txn.delete_lock(key)
        self._record_rollback(txn, key)
        return None

    def kv_check_txn_status(self, req: dict) -> dict:
        """Decide a transaction's fate from its primary: alive, committed, or rolled back now."""
        primary, lock_ts, current_ts = (
            _b(req["primary_key"]),
            int(req["lock_ts"]),
            int(req["current_ts"]),
        )
        with self.latches.hold([primary]) as latched:
            txn = MvccTxn(self.storage.reader(), lock_ts)
            lock = txn.get_lock(primary)
            if lock is not None and lock.ts == lock_ts:
                if not self._lock_expired(lock, current_ts):
                    return {"lock_ttl": lock.ttl, "commit_version": 0, "action": "no_action"}
                txn.delete_value(primary)
                txn.delete_lock(primary)
                self._record_rollback(txn, primary)
                self._apply(txn, latched)
                return {"lock_ttl": 0, "commit_version": 0, "action": "ttl_expire_rollback"}
            write, commit_ts = txn.current_write(primary)
            if write is None:
                # Never prewritten here (or the prewrite is still in flight): record the rollback
                # so that prewrite, should it arrive, is refused.
                self._record_rollback(txn, primary)
                self._apply(txn, latched)
                return {"lock_ttl": 0, "commit_version": 0, "action": "lock_not_exist_rollback"}
            committed = 0 if write.kind == WriteKind.ROLLBACK else commit_ts
            return {"lock_ttl": 0, "commit_version": committed, "action": "no_action"}

    def kv_resolve_lock(self, req: dict) -> dict:
        """Commit (commit_version > 0) or roll back (0) every lock left by start_version.

        With ``keys`` only those keys are resolved (the locks a reader actually met).
        """
        start_ts, commit_ts = int(req["start_version"]), int(req.get("commit_version", 0))
        reader = self.storage.reader()
        if req.get("keys"):
            # TiKV's lite resolve: only the keys the caller met, no scan of the whole lock CF.
            keys = [
                k for k in _unique(req["keys"]) if _lock_ts(reader.get_cf(CF_LOCK, k)) == start_ts
            ]
        else:
            keys = [k for k, raw in reader.iter_cf(CF_LOCK) if Lock.parse(raw).ts == start_ts]
        if not keys:
            return {"error": None}
        if commit_ts and not self._commit_ts_ok(start_ts, commit_ts):
            return {
                "error": {
                    "abort": f"commit_version {commit_ts} is not after start_version {start_ts}"
                }
            }
        with self.latches.hold(keys) as latched:
            txn = MvccTxn(self.storage.reader(), start_ts)
            for key in keys:  # each step re-reads the lock, so a lock resolved meanwhile is fine
                err = (
                    self._commit_key(txn, key, commit_ts)
                    if commit_ts
                    else self._rollback_key(txn, key)
                )
                if err is not None:
                    return {"error": err}
            self._apply(txn, latched)
        return {"error": None}


def _lock_ts(raw: bytes | None) -> int | None:
    return None if raw is None else Lock.parse(raw).ts


def _snake(name: str) -> str:
    out = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    return out if out.startswith(("kv_", "raw_")) else "kv_" + out


METHODS: dict[str, Callable[[Server, dict], dict]] = {
    "kv_get": Server.kv_get,
    "kv_scan": Server.kv_scan,
    "kv_prewrite": Server.kv_prewrite,
    "kv_commit": Server.kv_commit,
    "kv_batch_rollback": Server.kv_batch_rollback,
    "kv_check_txn_status": Server.kv_check_txn_status,
    "kv_resolve_lock": Server.kv_resolve_lock,
    "raw_get": Server.raw_get,
    "raw_put": Server.raw_put,
    "raw_delete": Server.raw_delete,
    "raw_scan": Server.raw_scan,
}
