"""Snapshot reads over the write and default column families (TinyKV 4A)."""

from __future__ import annotations

from collections.abc import Iterator

from distlab.systems.percolator.codec import TS_MAX, decode_key, encode_key
from distlab.systems.percolator.mvcc import Write, WriteKind
from distlab.systems.percolator.storage import CF_DEFAULT, CF_WRITE


class MvccTxn:
    def __init__(self, reader, start_ts: int) -> None:
        self.reader = reader
        self.start_ts = start_ts

    def _records(self, key: bytes, ts: int) -> Iterator[tuple[int, Write]]:
        """key's write records with commit ts <= ts, newest first; stops at the next key."""
        for enc, raw in self.reader.iter_cf(CF_WRITE, encode_key(key, ts)):
            user, commit_ts = decode_key(enc)
            yield commit_ts, Write.parse(raw)

    def get_value(self, key: bytes) -> bytes | None:
        """The newest PUT committed at or below start_ts, past rollbacks; None after a DELETE."""
        for _, write in self._records(key, self.start_ts):
            if write.kind == WriteKind.PUT:
                return self.reader.get_cf(CF_DEFAULT, encode_key(key, write.start_ts))
            if write.kind == WriteKind.DELETE:
                return None
        return None

    def current_write(self, key: bytes) -> tuple[Write | None, int]:
        """This transaction's own commit or rollback record on key."""
        for commit_ts, write in self._records(key, TS_MAX):
            if commit_ts < self.start_ts:
                break
            if write.start_ts == self.start_ts:
                return write, commit_ts
        return None, 0

    def most_recent_write(self, key: bytes) -> tuple[Write | None, int]:
        """The newest record of key, whatever its timestamp."""
        for commit_ts, write in self._records(key, TS_MAX):
            return write, commit_ts
        return None, 0
