"""Locks, write records and the per-request MVCC transaction, as TinyKV's ``kv/transaction/mvcc``.

``MvccTxn`` only reads through a storage reader and *collects* modifications; the caller applies
them as one batch while holding the latches of every key touched. That split is what makes each
request atomic without the handlers knowing anything about the engine underneath.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from distlab.systems.percolator.codec import (
    TS_MAX,
    CodecError,
    decode_key,
    encode_key,
)
from distlab.systems.percolator.storage import CF_DEFAULT, CF_LOCK, CF_WRITE, Modify, StorageReader

__all__ = ["TS_MAX", "Lock", "MvccTxn", "Write", "WriteKind"]

_LOCK_TAIL = struct.Struct(">BQQ")  # kind, start ts, ttl after the primary key
_WRITE = struct.Struct(">BQ")  # kind, start ts


class WriteKind(enum.IntEnum):
    """TinyKV's numbering (mvcc/write.go) plus LOCK, which TinyKV's proto reserves for TinySQL.

    LOCK is our extension (TiKV has it as WriteType::Lock): a key locked to take part in a
    transaction's conflict check without changing its value; readers skip it like a rollback.
    """

    PUT = 1
    DELETE = 2
    ROLLBACK = 3
    LOCK = 4


@dataclass(frozen=True)
class Lock:
    """A prewrite's claim on a key: who the primary is, the start ts, and how long it may live."""

    primary: bytes
    ts: int
    ttl: int
    kind: WriteKind

    def to_bytes(self) -> bytes:
        """``primary ++ kind ++ ts(be64) ++ ttl(be64)``, TinyKV ``Lock.ToBytes``."""
        return bytes(self.primary) + _LOCK_TAIL.pack(int(self.kind), self.ts, self.ttl)

    @classmethod
    def parse(cls, data: bytes) -> Lock:
        """TinyKV ``ParseLock``: everything before the last 17 bytes is the primary key."""
        if len(data) <= 16:
            raise CodecError(f"mvcc: error parsing lock, not enough input, found {len(data)} bytes")
        cut = len(data) - 17
        kind, ts, ttl = _LOCK_TAIL.unpack(data[cut:])
        return cls(bytes(data[:cut]), ts, ttl, WriteKind(kind))

    def info(self, key: bytes) -> dict:
        """The ``LockInfo`` a reader or writer blocked by this lock is told about."""
        return {
            "primary_lock": self.primary,
            "lock_version": self.ts,
            "key": key,
            "lock_ttl": self.ttl,
        }


@dataclass(frozen=True)
class Write:
    """A commit (or rollback) record: which start ts the version at this commit ts came from."""

    start_ts: int
    kind: WriteKind

    def to_bytes(self) -> bytes:
        """``kind ++ start_ts(be64)``, 9 bytes, TinyKV ``Write.ToBytes``."""
        return _WRITE.pack(int(self.kind), self.start_ts)

    @classmethod
    def parse(cls, data: bytes) -> Write:
        """TinyKV ``ParseWrite``: exactly 9 bytes."""
        if len(data) != 9:
            raise CodecError(f"mvcc: write record must be 9 bytes, found {len(data)}")
        kind, start_ts = _WRITE.unpack(data)
        return cls(start_ts, WriteKind(kind))


class MvccTxn:
    """One request's view of the store at ``start_ts`` plus the modifications it will make."""

    def __init__(self, reader: StorageReader, start_ts: int) -> None:
        self.reader = reader
        self.start_ts = start_ts
        self.writes: list[Modify] = []

    # -- collected modifications -------------------------------------------------------------
    def put_write(self, key: bytes, ts: int, write: Write) -> None:
        """Record a commit or rollback of ``key`` at ``ts``."""
        self.writes.append(Modify(CF_WRITE, encode_key(key, ts), write.to_bytes()))

    def put_lock(self, key: bytes, lock: Lock) -> None:
        """Lock ``key``; the lock CF is keyed by the raw user key (one lock per key, any ts)."""
        self.writes.append(Modify(CF_LOCK, bytes(key), lock.to_bytes()))

    def delete_lock(self, key: bytes) -> None:
        """Remove ``key``'s lock."""
        self.writes.append(Modify(CF_LOCK, bytes(key), None))

    def put_value(self, key: bytes, value: bytes) -> None:
        """Store ``value`` for ``key`` at this transaction's start ts (invisible until committed)."""
        self.writes.append(Modify(CF_DEFAULT, encode_key(key, self.start_ts), bytes(value)))

    def delete_value(self, key: bytes) -> None:
        """Drop the value this transaction stored for ``key``."""
        self.writes.append(Modify(CF_DEFAULT, encode_key(key, self.start_ts), None))

    # -- reads --------------------------------------------------------------------------------
    def get_lock(self, key: bytes) -> Lock | None:
        """``key``'s lock, whichever transaction holds it."""
        raw = self.reader.get_cf(CF_LOCK, key)
        return None if raw is None else Lock.parse(raw)

    def _writes_from(self, key: bytes, ts: int):
        """``(commit_ts, Write)`` for ``key``, newest first, starting at commit ts <= ``ts``."""
        for enc, raw in self.reader.iter_cf(CF_WRITE, encode_key(key, ts)):
            user_key, commit_ts = decode_key(enc)
            if user_key != key:
                return
            yield commit_ts, Write.parse(raw)

    def get_value(self, key: bytes) -> bytes | None:
        """The value committed most recently at or before ``start_ts``; rollbacks/locks skipped."""
        for _commit_ts, write in self._writes_from(key, self.start_ts):
            if write.kind == WriteKind.PUT:
                return self.reader.get_cf(CF_DEFAULT, encode_key(key, write.start_ts))
            if write.kind == WriteKind.DELETE:
                return None
        return None

    def current_write(self, key: bytes) -> tuple[Write | None, int]:
        """The write (commit or rollback) made by the transaction that started at ``start_ts``.

        A commit ts is never below its start ts, so scanning from the newest down to
        ``start_ts`` is enough.
        """
        for commit_ts, write in self._writes_from(key, TS_MAX):
            if commit_ts < self.start_ts:
                break
            if write.start_ts == self.start_ts:
                return write, commit_ts
        return None, 0

    def most_recent_write(self, key: bytes) -> tuple[Write | None, int]:
        """The newest write record of ``key`` regardless of ``start_ts``."""
        for commit_ts, write in self._writes_from(key, TS_MAX):
            return write, commit_ts
        return None, 0
