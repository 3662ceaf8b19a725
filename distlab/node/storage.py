"""Durable key/value storage for nodes, with explicit sync.

Reads see every write at once (like a page cache); only `sync()` makes writes
survive a crash. The simulator discards unsynced writes when it kills a node,
and a real process loses them when it dies, so code that forgets to sync fails
the same way in both.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

import orjson

_DELETED = object()


class StorageError(RuntimeError):
    """A storage file that cannot be read back, or a value that cannot be stored."""


class Storage(ABC):
    """Base: an in-memory view plus a list of writes not yet made durable."""

    def __init__(self, data: dict[str, bytes] | None = None) -> None:
        self._data: dict[str, bytes] = dict(data or {})
        self._unsynced: dict[str, bytes | object] = {}

    # Values are kept encoded, so a caller mutating a list after storing it
    # cannot change what is "on disk", and non-JSON values fail at write time.
    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise StorageError(f"storage keys are strings, not {type(key).__name__}")
        try:
            encoded = orjson.dumps(value)
        except TypeError as exc:
            raise StorageError(f"value for {key!r} is not JSON-serialisable: {exc}") from None
        self._data[key] = encoded
        self._unsynced[key] = encoded

    def __getitem__(self, key: str) -> Any:
        return orjson.loads(self._data[key])

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self._unsynced[key] = _DELETED

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._data))

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: str, default: Any = None) -> Any:
        raw = self._data.get(key)
        return default if raw is None else orjson.loads(raw)

    def keys(self) -> list[str]:
        return sorted(self._data)

    @property
    def dirty(self) -> bool:
        return bool(self._unsynced)

    def sync(self) -> None:
        """Make every write so far durable (an fsync for a real process)."""
        if self._unsynced:
            self._persist(self._unsynced)
            self._unsynced = {}

    @abstractmethod
    def _persist(self, changes: dict[str, bytes | object]) -> None:
        """Write these changes where they survive a crash."""


class MemoryDisk:
    """The simulator's disk for one node: survives crashes, loses what was not synced.

    It keeps high-water marks (keys, bytes of values) so a run can show, and a test can
    bound, how much state a node ever kept, as 6.824's snapshot-size test does."""

    def __init__(self) -> None:
        self.durable: dict[str, bytes] = {}
        self.syncs = 0
        self.bytes = 0
        self.max_keys = 0
        self.max_bytes = 0

    def stats(self) -> dict[str, int]:
        return {"syncs": self.syncs, "keys": len(self.durable), "bytes": self.bytes,
                "max_keys": self.max_keys, "max_bytes": self.max_bytes}

    def open(self) -> SimStorage:
        return SimStorage(self)


class SimStorage(Storage):
    def __init__(self, disk: MemoryDisk) -> None:
        super().__init__(disk.durable)
        self._disk = disk

    def _persist(self, changes: dict[str, bytes | object]) -> None:
        disk = self._disk
        disk.syncs += 1
        durable = disk.durable
        for key, value in changes.items():
            old = durable.pop(key, None)
            if old is not None:
                disk.bytes -= len(old)
            if value is not _DELETED:
                durable[key] = value  # type: ignore[assignment]
                disk.bytes += len(value)  # type: ignore[arg-type]
        disk.max_keys = max(disk.max_keys, len(durable))
        disk.max_bytes = max(disk.max_bytes, disk.bytes)


class FileStorage(Storage):
    """A JSON-lines write-ahead log with fsync on `sync()`, compacted when mostly stale.

    A torn last line (a crash in mid-write) is cut off on open; a bad line in the
    middle means the file is corrupt, and opening it raises StorageError.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        data, good_bytes, lines = self._load(path)
        super().__init__(data)
        self._log_lines = lines
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._file = open(path, "ab")
        if self._file.tell() != good_bytes:
            self._file.truncate(good_bytes)
            self._file.seek(good_bytes)

    @staticmethod
    def _load(path: str) -> tuple[dict[str, bytes], int, int]:
        data: dict[str, bytes] = {}
        if not os.path.exists(path):
            return data, 0, 0
        with open(path, "rb") as f:
            raw = f.read()
        good = 0
        lines = 0
        chunks = raw.split(b"\n")
        for i, line in enumerate(chunks):
            if i == len(chunks) - 1:  # text after the last newline: a torn write
                break
            try:
                rec = orjson.loads(line)
                key = rec["k"]
                if not isinstance(key, str):
                    raise TypeError(key)
                value = None if rec.get("d") else orjson.dumps(rec["v"])
            except (orjson.JSONDecodeError, KeyError, TypeError):
                raise StorageError(f"{path}: corrupt record on line {i + 1}") from None
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
            good += len(line) + 1
            lines += 1
        return data, good, lines

    def _persist(self, changes: dict[str, bytes | object]) -> None:
        out = bytearray()
        for key, value in changes.items():
            if value is _DELETED:
                out += orjson.dumps({"k": key, "d": True})
            else:
                out += b'{"k":' + orjson.dumps(key) + b',"v":' + value + b"}"  # type: ignore[operator]
            out += b"\n"
        self._file.write(out)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._log_lines += len(changes)
        if self._log_lines > 1000 and self._log_lines > 4 * len(self._data):
            self._compact()

    def _compact(self) -> None:
        tmp = self.path + ".compact"
        with open(tmp, "wb") as f:
            for key in sorted(self._data):
                f.write(b'{"k":' + orjson.dumps(key) + b',"v":' + self._data[key] + b"}\n")
            f.flush()
            os.fsync(f.fileno())
        self._file.close()
        os.replace(tmp, self.path)
        dir_fd = os.open(os.path.dirname(os.path.abspath(self.path)), os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        self._file = open(self.path, "ab")
        self._log_lines = len(self._data)

    def close(self) -> None:
        self._file.close()
