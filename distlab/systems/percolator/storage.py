"""The engine under the transaction layer: three column families of sorted bytes -> bytes.

Handlers never touch an engine directly: they read through ``Storage.reader()`` and hand
``Storage.write`` one batch of :class:`Modify` per request, which the engine applies atomically
(a RocksDB ``WriteBatch``; one critical section in memory). Both engines answer the same tests, so
anything proven on the fast in-memory one holds on the durable one.
"""

from __future__ import annotations

import bisect
import gc
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = [
    "CFS",
    "CF_DEFAULT",
    "CF_LOCK",
    "CF_WRITE",
    "MemoryStorage",
    "Modify",
    "RocksStorage",
    "Storage",
    "StorageReader",
    "open_storage",
]

CF_DEFAULT = "default"
CF_LOCK = "lock"
CF_WRITE = "write"
CFS = (CF_DEFAULT, CF_LOCK, CF_WRITE)


@dataclass(frozen=True)
class Modify:
    """One change in a batch: put ``value`` at ``key`` in ``cf``, or delete it when ``value`` is None."""

    cf: str
    key: bytes
    value: bytes | None


@runtime_checkable
class StorageReader(Protocol):
    """Point reads and ordered scans; each call sees every batch applied before it, whole."""

    def get_cf(self, cf: str, key: bytes) -> bytes | None: ...

    def iter_cf(self, cf: str, start: bytes = b"") -> Iterator[tuple[bytes, bytes]]: ...


@runtime_checkable
class Storage(Protocol):
    """What the transaction layer needs from an engine."""

    def reader(self) -> StorageReader: ...

    def write(self, batch: Iterable[Modify]) -> None: ...

    def dump(self, cf: str) -> dict[bytes, bytes]: ...

    def close(self) -> None: ...


def _check_cf(cf: str) -> None:
    if cf not in CFS:
        raise KeyError(f"unknown column family {cf!r}; expected one of {', '.join(CFS)}")


class MemoryStorage:
    """Dicts plus sorted key lists; a lock makes each batch and each read step atomic."""

    def __init__(self) -> None:
        self._data: dict[str, dict[bytes, bytes]] = {cf: {} for cf in CFS}
        self._keys: dict[str, list[bytes]] = {cf: [] for cf in CFS}
        self._lock = threading.RLock()

    def reader(self) -> MemoryStorage:
        """Reads go straight to the live maps (every call is atomic under the lock)."""
        return self

    def get_cf(self, cf: str, key: bytes) -> bytes | None:
        _check_cf(cf)
        with self._lock:
            return self._data[cf].get(bytes(key))

    def iter_cf(self, cf: str, start: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        """Ascending from ``start``; re-seeks after each item so concurrent batches cannot break it."""
        _check_cf(cf)
        keys, data = self._keys[cf], self._data[cf]
        with self._lock:
            i = bisect.bisect_left(keys, bytes(start))
            item = (keys[i], data[keys[i]]) if i < len(keys) else None
        while item is not None:
            yield item
            with self._lock:
                i = bisect.bisect_right(keys, item[0])
                item = (keys[i], data[keys[i]]) if i < len(keys) else None

    def write(self, batch: Iterable[Modify]) -> None:
        """Apply the batch in order, all under one lock hold."""
        batch = list(batch)
        for m in batch:
            _check_cf(m.cf)
        with self._lock:
            for m in batch:
                data, keys, key = self._data[m.cf], self._keys[m.cf], bytes(m.key)
                if m.value is None:
                    if data.pop(key, None) is not None:
                        del keys[bisect.bisect_left(keys, key)]
                else:
                    if key not in data:
                        bisect.insort(keys, key)
                    data[key] = bytes(m.value)

    def dump(self, cf: str) -> dict[bytes, bytes]:
        """A copy of one column family (for tests and debugging)."""
        _check_cf(cf)
        with self._lock:
            return dict(self._data[cf])

    def close(self) -> None:
        """Nothing to release."""


class RocksStorage:
    """RocksDB column families through rocksdict; each batch is one synced ``WriteBatch``.

    ``sync=True`` fsyncs the WAL before ``write`` returns, so a request acknowledged by the
    server survives a crash (what a lock or commit record must do for Percolator to be safe).
    """

    def __init__(self, path: str | Path, sync: bool = True) -> None:
        import rocksdict

        self._rd = rocksdict
        self._path = Path(path)
        self._path.mkdir(parents=True, exist_ok=True)
        opts = rocksdict.Options(raw_mode=True)
        opts.create_if_missing(True)
        opts.create_missing_column_families(True)
        families = {cf: rocksdict.Options(raw_mode=True) for cf in CFS if cf != CF_DEFAULT}
        self._db = rocksdict.Rdict(str(self._path), options=opts, column_families=families)
        wo = rocksdict.WriteOptions()
        wo.sync = sync
        self._db.set_write_options(wo)
        self._cf = {cf: self._db.get_column_family(cf) for cf in families}
        self._cf[CF_DEFAULT] = self._db
        self._handles = {cf: self._db.get_column_family_handle(cf) for cf in CFS}
        self._closed = False

    def reader(self) -> RocksStorage:
        """RocksDB reads are thread-safe; each iterator sees a consistent point in time."""
        return self

    def get_cf(self, cf: str, key: bytes) -> bytes | None:
        _check_cf(cf)
        value = self._cf[cf].get(bytes(key))
        return None if value is None else bytes(value)

    def iter_cf(self, cf: str, start: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        _check_cf(cf)
        it = self._cf[cf].iter()
        it.seek(bytes(start))
        while it.valid():
            yield bytes(it.key()), bytes(it.value())
            it.next()

    def write(self, batch: Iterable[Modify]) -> None:
        """One atomic ``WriteBatch`` for the whole request."""
        wb = self._rd.WriteBatch(raw_mode=True)
        for m in batch:
            _check_cf(m.cf)
            handle = self._handles[m.cf]
            if m.value is None:
                wb.delete(bytes(m.key), handle)
            else:
                wb.put(bytes(m.key), bytes(m.value), handle)
        self._db.write(wb)

    def dump(self, cf: str) -> dict[bytes, bytes]:
        """A copy of one column family (for tests and debugging)."""
        return dict(self.iter_cf(cf))

    def close(self) -> None:
        """Flush the WAL and close the database."""
        if self._closed:
            return
        self._closed = True
        try:
            self._db.flush_wal(True)
        finally:
            # RocksDB's directory lock is released only when every object referring to the
            # database (column family views, handles, live iterators) is gone.
            for cf, view in self._cf.items():
                if cf != CF_DEFAULT:
                    view.close()
            self._cf.clear()
            self._handles.clear()
            self._db.close()
            gc.collect()


def open_storage(
    engine: str = "memory", path: str | Path | None = None, sync: bool = True
) -> Storage:
    """``memory`` or ``rocksdb`` (the latter needs ``path``)."""
    if engine == "memory":
        return MemoryStorage()
    if engine == "rocksdb":
        if path is None:
            raise ValueError("the rocksdb engine needs a directory")
        return RocksStorage(path, sync=sync)
    raise ValueError(f"unknown engine {engine!r}; choose memory or rocksdb")
