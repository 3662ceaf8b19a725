"""The engine under the transaction layer: three column families of sorted bytes -> bytes.

Handlers never touch an engine directly: they read through ``Storage.reader()`` and hand
``Storage.write`` one batch of :class:`Modify` per request, which the engine applies atomically
(a RocksDB ``WriteBatch``; one new version in memory). A reader is a snapshot across all three
column families, so a request reasons about one instant even while others write. Both engines
answer the same tests, so anything proven on the fast in-memory one holds on the durable one.
"""

from __future__ import annotations

import bisect
import gc
import threading
import weakref
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
    """Point reads and ordered scans of one snapshot: every batch written before ``reader()``
    was called, whole, and nothing written after (TinyKV's StorageReader)."""

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


class _MemoryReader:
    """A point-in-time view: sees every batch up to ``seq`` and none after."""

    def __init__(self, store: MemoryStorage, seq: int) -> None:
        self._store = store
        self.seq = seq

    def get_cf(self, cf: str, key: bytes) -> bytes | None:
        _check_cf(cf)
        with self._store._lock:
            return self._store._visible(cf, bytes(key), self.seq)

    def iter_cf(self, cf: str, start: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        """Ascending from ``start``; re-seeks after each item, so writes meanwhile are harmless."""
        _check_cf(cf)
        store, keys = self._store, self._store._keys[cf]
        probe, right = bytes(start), False
        while True:
            with store._lock:
                i = (bisect.bisect_right if right else bisect.bisect_left)(keys, probe)
                item = None
                while i < len(keys):
                    value = store._visible(cf, keys[i], self.seq)
                    if value is not None:
                        item = (keys[i], value)
                        break
                    i += 1
            if item is None:
                return
            yield item
            probe, right = item[0], True


class MemoryStorage:
    """Multi-version dicts: each reader is a snapshot, each batch one atomic step.

    Every key keeps ``(batch seq, value or None)`` versions; a reader remembers the seq it was
    opened at. Versions no live reader can see are pruned when the key is next written, so the
    store holds little more than the latest values.
    """

    def __init__(self) -> None:
        self._versions: dict[str, dict[bytes, list[tuple[int, bytes | None]]]] = {
            cf: {} for cf in CFS
        }
        self._keys: dict[str, list[bytes]] = {cf: [] for cf in CFS}
        self._seq = 0
        self._readers: weakref.WeakSet[_MemoryReader] = weakref.WeakSet()
        self._lock = threading.RLock()

    def _visible(self, cf: str, key: bytes, seq: int) -> bytes | None:
        for version, value in reversed(self._versions[cf].get(key, ())):
            if version <= seq:
                return value
        return None

    def reader(self) -> _MemoryReader:
        """A snapshot of everything written so far."""
        with self._lock:
            r = _MemoryReader(self, self._seq)
            self._readers.add(r)
            return r

    def write(self, batch: Iterable[Modify]) -> None:
        """Apply the batch in order as one new version; no reader sees half of it."""
        batch = list(batch)
        for m in batch:
            _check_cf(m.cf)
        with self._lock:
            self._seq += 1
            seq = self._seq
            floor = min((r.seq for r in self._readers), default=seq)
            for m in batch:
                versions, keys, key = self._versions[m.cf], self._keys[m.cf], bytes(m.key)
                value = None if m.value is None else bytes(m.value)
                vs = versions.get(key)
                if vs is None:
                    if value is None:
                        continue
                    vs = versions[key] = []
                    bisect.insort(keys, key)
                if vs and vs[-1][0] == seq:
                    vs[-1] = (seq, value)  # the same key twice in one batch: last one wins
                else:
                    vs.append((seq, value))
                # Keep what the oldest live reader may still see, and everything newer.
                keep = next((i for i in range(len(vs) - 1, -1, -1) if vs[i][0] <= floor), 0)
                del vs[:keep]
                if len(vs) == 1 and vs[0][1] is None:
                    del versions[key]
                    del keys[bisect.bisect_left(keys, key)]

    def dump(self, cf: str) -> dict[bytes, bytes]:
        """The latest contents of one column family (for tests and debugging)."""
        _check_cf(cf)
        with self._lock:
            latest = ((k, vs[-1][1]) for k, vs in self._versions[cf].items())
            return {k: v for k, v in latest if v is not None}

    def close(self) -> None:
        """Nothing to release."""


class _RocksReader:
    """One consistent point in time over the three column families.

    Point reads go through RocksDB snapshots. Scans go through iterators opened together with
    them: a RocksDB iterator keeps the view it was created with across seeks. (rocksdict's
    ``Snapshot.iter`` reads the live database, so it cannot be used for this.) One iterator per
    column family means a reader cannot scan one column family twice at once; that is refused
    loudly rather than answered wrongly.
    """

    def __init__(self, snapshots: dict, iterators: dict) -> None:
        self._snaps = snapshots
        self._iters = iterators
        self._busy: set[str] = set()

    def get_cf(self, cf: str, key: bytes) -> bytes | None:
        _check_cf(cf)
        try:
            return bytes(self._snaps[cf][bytes(key)])
        except KeyError:
            return None
        except Exception as exc:  # rocksdict raises a bare Exception for a missing key
            if "not found" in str(exc):
                return None
            raise

    def iter_cf(self, cf: str, start: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        _check_cf(cf)
        if cf in self._busy:
            raise RuntimeError(f"nested scans of column family {cf!r} on one RocksDB reader")
        self._busy.add(cf)
        try:
            it = self._iters[cf]
            it.seek(bytes(start))
            while it.valid():
                yield bytes(it.key()), bytes(it.value())
                it.next()
        finally:
            self._busy.discard(cf)


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
        # Serialises batches against snapshot-taking, so a reader's three snapshots are one cut.
        self._write_lock = threading.Lock()

    def reader(self) -> _RocksReader:
        """Snapshots of the three column families, taken with no batch in between."""
        with self._write_lock:
            snaps = {cf: view.snapshot() for cf, view in self._cf.items()}
            iters = {cf: view.iter() for cf, view in self._cf.items()}
        return _RocksReader(snaps, iters)

    def _live(self, cf: str, start: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
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
        with self._write_lock:
            self._db.write(wb)

    def dump(self, cf: str) -> dict[bytes, bytes]:
        """The latest contents of one column family (for tests and debugging)."""
        _check_cf(cf)
        return dict(self._live(cf))

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
