"""Snapshot reads over the write and default column families (TinyKV 4A)."""

from __future__ import annotations

from distlab.systems.percolator.codec import TS_MAX, decode_key, encode_key  # noqa: F401
from distlab.systems.percolator.mvcc import Write, WriteKind  # noqa: F401
from distlab.systems.percolator.storage import CF_DEFAULT, CF_WRITE  # noqa: F401


class MvccTxn:
    def __init__(self, reader, start_ts: int) -> None:
        self.reader = reader
        self.start_ts = start_ts

    def get_value(self, key: bytes) -> bytes | None:
        """The newest PUT committed at or below start_ts, past rollbacks; None after a DELETE."""
        return None  # TODO

    def current_write(self, key: bytes) -> tuple[Write | None, int]:
        """This transaction's own commit or rollback record on key."""
        return None, 0  # TODO

    def most_recent_write(self, key: bytes) -> tuple[Write | None, int]:
        """The newest record of key, whatever its timestamp."""
        return None, 0  # TODO
