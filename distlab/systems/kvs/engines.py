"""Storage engines behind one interface, and the marker that says which one owns a directory.

Every engine stores bytes -> bytes, is safe to call from many threads (the RESP server does),
and takes the same ``fsync`` policy (``always`` / ``batch`` / ``never``; see
:mod:`distlab.systems.kvs.store` for what each promises). ``open_engine`` is the only way in:
it creates the directory, writes ``<dir>/engine`` naming the engine on first open, and refuses
to open a directory another engine wrote, so sqlite never tries to read bitcask logs.
"""

from __future__ import annotations

import inspect
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "ENGINES",
    "FSYNC_POLICIES",
    "MARKER",
    "Engine",
    "EngineMismatch",
    "KeyNotFound",
    "KvsError",
    "LmdbEngine",
    "RocksDbEngine",
    "SqliteEngine",
    "open_engine",
    "read_marker",
]


class KvsError(Exception):
    """Any failure of the store; the message is one line naming the cause."""


class KeyNotFound(KvsError):
    """``remove`` of a key that is not there (the CLI prints exactly this message)."""

    def __init__(self, message: str = "Key not found") -> None:
        super().__init__(message)


class EngineMismatch(KvsError):
    """The data directory belongs to another engine; opening it would misread or clobber it."""


@runtime_checkable
class Engine(Protocol):
    """What every engine offers: bytes keys and values, safe to call from many threads."""

    def set(self, key: bytes, value: bytes) -> None: ...

    def get(self, key: bytes) -> bytes | None: ...

    def remove(self, key: bytes) -> None: ...

    def close(self) -> None: ...


ENGINES = ("kvs", "sqlite", "lmdb", "rocksdb")
FSYNC_POLICIES = ("always", "batch", "never")
MARKER = "engine"

# Files or folders each engine leaves in its directory: a directory with no marker but one of
# these was written by that engine (e.g. before markers existed, or the marker was deleted).
_SIGNATURES: dict[str, Callable[[Path], bool]] = {
    "kvs": lambda d: any(p.suffix == ".log" and p.stem.isdigit() for p in d.iterdir()),
    "sqlite": lambda d: (d / "kvs.sqlite3").exists(),
    "lmdb": lambda d: (d / "lmdb").is_dir(),
    "rocksdb": lambda d: (d / "rocksdb").is_dir(),
}


def _check_fsync(fsync: str) -> None:
    if fsync not in FSYNC_POLICIES:
        raise KvsError(f"unknown fsync policy {fsync!r}; choose one of {', '.join(FSYNC_POLICIES)}")


def _check_bytes(key: bytes, value: bytes | None = None) -> None:
    if not isinstance(key, bytes | bytearray | memoryview):
        raise TypeError(f"key must be bytes, not {type(key).__name__}")
    if value is not None and not isinstance(value, bytes | bytearray | memoryview):
        raise TypeError(f"value must be bytes, not {type(value).__name__}")


def fsync_dir(path: str | Path) -> None:
    """fsync a directory so a file created or renamed in it survives a power loss."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_marker(path: str | Path) -> str | None:
    """The engine recorded for ``path``: the marker, else a recognised engine's files, else None."""
    d = Path(path)
    marker = d / MARKER
    if marker.is_file():
        return marker.read_text(encoding="utf-8").strip()
    if not d.is_dir():
        return None
    for name, looks_like in _SIGNATURES.items():
        if looks_like(d):
            return name
    return None


def claim_directory(path: str | Path, engine: str) -> Path:
    """Create ``path``, check it belongs to ``engine`` and record that in the marker file."""
    if engine not in ENGINES:
        raise KvsError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    d = Path(path)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KvsError(f"cannot create data directory {d}: {exc.strerror or exc}") from exc
    if not d.is_dir():
        raise KvsError(f"data directory {d} is not a directory")
    owner = read_marker(d)
    if owner is not None and owner != engine:
        raise EngineMismatch(f"data directory {d} was written by engine '{owner}', not '{engine}'")
    marker = d / MARKER
    if not marker.is_file():
        tmp = d / f".{MARKER}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(engine + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, marker)
        fsync_dir(d)
    return d


class _PeriodicSync:
    """A daemon thread calling ``sync`` every ``interval`` seconds: the ``batch`` policy."""

    def __init__(self, sync: Callable[[], None], interval: float, name: str) -> None:
        self._sync = sync
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._sync()
            except Exception:  # noqa: BLE001 - a failed background sync is retried next tick
                pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class _GuardedEngine:
    """What the third-party engines share: one writer lock, and a clear error after close()."""

    name = "engine"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False

    def _ensure_open(self) -> None:
        if self._closed:
            raise KvsError(f"{self.name}: engine is closed")

    def close(self) -> None:
        """Stop any batch syncer, then make everything durable and let go (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            syncer = getattr(self, "_syncer", None)
            if syncer is not None:
                syncer.stop()
            self._shutdown()

    def _shutdown(self) -> None:
        """Release the engine's handles; called once, under the writer lock."""


class SqliteEngine(_GuardedEngine):
    """stdlib sqlite3: one writer connection under a lock, one reader connection per thread.

    WAL mode lets readers run while a write commits. fsync maps to ``synchronous``:
    always -> FULL (the WAL is fsynced at every commit), batch -> NORMAL (fsynced at
    checkpoints), never -> OFF.
    """

    name = "sqlite"
    _SYNC = {"always": "FULL", "batch": "NORMAL", "never": "OFF"}

    def __init__(self, directory: Path, fsync: str = "always") -> None:
        _check_fsync(fsync)
        self._file = str(directory / "kvs.sqlite3")
        self._pragma = self._SYNC[fsync]
        super().__init__()
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        try:
            self._writer = self._connect()
            self._writer.execute(
                "CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL)"
            )
        except sqlite3.Error as exc:
            raise KvsError(f"sqlite: cannot open {self._file}: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._file, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._pragma}")
        self._conns.append(conn)
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            with self._lock:
                self._ensure_open()
                conn = self._connect()
            self._local.conn = conn
        return conn

    def set(self, key: bytes, value: bytes) -> None:
        """Insert or replace; durable per the fsync policy when it returns."""
        _check_bytes(key, value)
        with self._lock:
            self._ensure_open()
            try:
                self._writer.execute(
                    "INSERT INTO kv (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (bytes(key), bytes(value)),
                )
            except sqlite3.Error as exc:
                raise KvsError(f"sqlite: set failed: {exc}") from exc

    def get(self, key: bytes) -> bytes | None:
        """The value, or None; runs on this thread's own connection, concurrently with writes."""
        _check_bytes(key)
        self._ensure_open()
        try:
            row = (
                self._reader()
                .execute("SELECT value FROM kv WHERE key = ?", (bytes(key),))
                .fetchone()
            )
        except sqlite3.Error as exc:
            raise KvsError(f"sqlite: get failed: {exc}") from exc
        return None if row is None else bytes(row[0])

    def remove(self, key: bytes) -> None:
        """Delete ``key``; KeyNotFound when it is not there."""
        _check_bytes(key)
        with self._lock:
            self._ensure_open()
            try:
                cur = self._writer.execute("DELETE FROM kv WHERE key = ?", (bytes(key),))
            except sqlite3.Error as exc:
                raise KvsError(f"sqlite: remove failed: {exc}") from exc
            if cur.rowcount == 0:
                raise KeyNotFound()

    def _shutdown(self) -> None:
        for conn in self._conns:
            conn.close()
        self._conns.clear()


class LmdbEngine(_GuardedEngine):
    """py-lmdb in ``<dir>/lmdb``: copy-on-write B+tree, readers never block the writer.

    fsync: always -> sync at every commit; batch -> ``env.sync()`` every ``batch_ms``;
    never -> no sync (the OS writes the memory map back when it likes). LMDB rejects
    empty keys and keys over 511 bytes; those raise KvsError.
    """

    name = "lmdb"

    def __init__(
        self,
        directory: Path,
        fsync: str = "always",
        map_size: int = 1 << 34,
        batch_ms: float = 10.0,
    ) -> None:
        import lmdb

        _check_fsync(fsync)
        self._lmdb = lmdb
        super().__init__()
        try:
            self._env = lmdb.open(
                str(directory / "lmdb"),
                map_size=map_size,
                sync=fsync == "always",
                metasync=fsync == "always",
                max_readers=1024,
            )
        except lmdb.Error as exc:
            raise KvsError(f"lmdb: cannot open {directory / 'lmdb'}: {exc}") from exc
        self._syncer = (
            _PeriodicSync(lambda: self._env.sync(True), batch_ms / 1000, "kvs-lmdb-sync")
            if fsync == "batch"
            else None
        )

    def _wrap(self, op: str, exc: Exception) -> KvsError:
        if isinstance(exc, self._lmdb.BadValsizeError):
            return KvsError(f"lmdb: {op} failed: key must be 1..511 bytes")
        return KvsError(f"lmdb: {op} failed: {exc}")

    def set(self, key: bytes, value: bytes) -> None:
        """Put in one write transaction (LMDB serialises writers itself)."""
        _check_bytes(key, value)
        self._ensure_open()
        try:
            with self._env.begin(write=True) as txn:
                txn.put(bytes(key), bytes(value))
        except self._lmdb.Error as exc:
            raise self._wrap("set", exc) from exc

    def get(self, key: bytes) -> bytes | None:
        """Read in a read-only transaction; never waits for writers."""
        _check_bytes(key)
        self._ensure_open()
        if not key or len(key) > 511:
            return None
        try:
            with self._env.begin(buffers=False) as txn:
                value = txn.get(bytes(key))
        except self._lmdb.Error as exc:
            raise self._wrap("get", exc) from exc
        return None if value is None else bytes(value)

    def remove(self, key: bytes) -> None:
        """Delete in one write transaction; KeyNotFound when absent."""
        _check_bytes(key)
        self._ensure_open()
        if not key or len(key) > 511:
            raise KeyNotFound()
        try:
            with self._env.begin(write=True) as txn:
                found = txn.delete(bytes(key))
        except self._lmdb.Error as exc:
            raise self._wrap("remove", exc) from exc
        if not found:
            raise KeyNotFound()

    def _shutdown(self) -> None:
        try:
            self._env.sync(True)
        finally:
            self._env.close()


class RocksDbEngine(_GuardedEngine):
    """RocksDB through rocksdict in ``<dir>/rocksdb``, raw bytes mode (no pickling).

    fsync: always -> WriteOptions.sync (the WAL is fsynced before a write returns);
    batch -> ``flush_wal(sync=True)`` every ``batch_ms``; never -> WAL written to the OS only.
    A lock serialises set/remove so remove's check-then-delete is atomic; gets are lock-free.
    """

    name = "rocksdb"

    def __init__(self, directory: Path, fsync: str = "always", batch_ms: float = 10.0) -> None:
        import rocksdict

        _check_fsync(fsync)
        super().__init__()
        opts = rocksdict.Options(raw_mode=True)
        opts.create_if_missing(True)
        try:
            self._db = rocksdict.Rdict(str(directory / "rocksdb"), options=opts)
        except Exception as exc:  # rocksdict raises plain Exception on open errors
            raise KvsError(f"rocksdb: cannot open {directory / 'rocksdb'}: {exc}") from exc
        wo = rocksdict.WriteOptions()
        wo.sync = fsync == "always"
        self._db.set_write_options(wo)
        self._syncer = (
            _PeriodicSync(lambda: self._db.flush_wal(True), batch_ms / 1000, "kvs-rocksdb-sync")
            if fsync == "batch"
            else None
        )

    def set(self, key: bytes, value: bytes) -> None:
        """Put through the WAL (synced per policy)."""
        _check_bytes(key, value)
        with self._lock:
            self._ensure_open()
            try:
                self._db.put(bytes(key), bytes(value))
            except Exception as exc:
                raise KvsError(f"rocksdb: set failed: {exc}") from exc

    def get(self, key: bytes) -> bytes | None:
        """Point lookup; RocksDB reads are thread-safe without our lock."""
        _check_bytes(key)
        self._ensure_open()
        try:
            value = self._db.get(bytes(key))
        except Exception as exc:
            raise KvsError(f"rocksdb: get failed: {exc}") from exc
        return None if value is None else bytes(value)

    def remove(self, key: bytes) -> None:
        """Delete; RocksDB deletes blindly, so check presence first under the write lock."""
        _check_bytes(key)
        with self._lock:
            self._ensure_open()
            try:
                if self._db.get(bytes(key)) is None:
                    raise KeyNotFound()
                self._db.delete(bytes(key))
            except KvsError:
                raise
            except Exception as exc:
                raise KvsError(f"rocksdb: remove failed: {exc}") from exc

    def _shutdown(self) -> None:
        try:
            self._db.flush_wal(True)
        finally:
            self._db.close()


def _open_kvs(directory: Path, **options: Any) -> Engine:
    from distlab.systems.kvs.store import KvStore

    return KvStore.open(directory, **options)


_FACTORIES: dict[str, Callable[..., Engine]] = {
    "kvs": _open_kvs,
    "sqlite": SqliteEngine,
    "lmdb": LmdbEngine,
    "rocksdb": RocksDbEngine,
}


def open_engine(path: str | Path, engine: str = "kvs", **options: Any) -> Engine:
    """Open (creating if needed) the data directory ``path`` with ``engine``.

    ``options`` go to the engine; all accept ``fsync="always"|"batch"|"never"`` (default
    always). Raises EngineMismatch when another engine wrote ``path``, KvsError otherwise.
    """
    if engine not in ENGINES:
        raise KvsError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    factory = _FACTORIES[engine]
    if engine == "kvs":
        from distlab.systems.kvs.store import KvStore

        accepted = set(inspect.signature(KvStore.open).parameters) - {"path"}
    else:
        accepted = set(inspect.signature(factory).parameters) - {"directory"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise KvsError(
            f"engine '{engine}' takes no option {', '.join(unknown)}"
            f" (it takes {', '.join(sorted(accepted))})"
        )
    directory = claim_directory(path, engine)
    return factory(directory, **options)
