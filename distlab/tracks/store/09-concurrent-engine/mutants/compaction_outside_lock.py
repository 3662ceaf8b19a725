"""Mutant: compaction runs after set/remove release the lock."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

COMPACT_AT = 1 << 20  # dead bytes that trigger a compaction
LOG = "data.log"


class KvStore:
    """String keys to string values, kept in a log file under a folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.index: dict[str, tuple[int, int]] = {}  # key -> (offset, length) of its set
        self.dead = 0
        self.lock = threading.RLock()  # held for each whole call, compaction included
        self.file = open(folder / LOG, "a+b")  # noqa: SIM115 - kept open for the store's life
        self._load()

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> KvStore:
        """The store kept in folder `path` (created if missing), with all it held."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder)

    def _load(self) -> None:
        """Rebuild the index from the log; a torn last line (a crash mid-write) is cut off."""
        self.file.seek(0)
        offset = 0
        for line in self.file:
            if not line.endswith(b"\n"):
                self.file.truncate(offset)
                break
            record = json.loads(line)
            old = self.index.pop(record["k"], None)
            if old is not None:
                self.dead += old[1]
            if record["op"] == "set":
                self.index[record["k"]] = (offset, len(line))
            else:
                self.dead += len(line)
            offset += len(line)

    def _append(self, record: dict[str, str]) -> tuple[int, int]:
        line = json.dumps(record, separators=(",", ":")).encode() + b"\n"
        self.file.seek(0, os.SEEK_END)
        offset = self.file.tell()
        self.file.write(line)
        self.file.flush()
        return offset, len(line)

    def set(self, key: str, value: str) -> None:
        """Append the new value; the old one (if any) becomes dead bytes."""
        with self.lock:
            self._set(key, value)
        self._maybe_compact()  # slow: done after the lock is released

    def _set(self, key: str, value: str) -> None:
        old = self.index.get(key)
        self.index[key] = self._append({"op": "set", "k": key, "v": value})
        if old is not None:
            self.dead += old[1]

    def get(self, key: str) -> str | None:
        """The latest value of `key` read from the log, or None."""
        with self.lock:
            return self._get(key)

    def _get(self, key: str) -> str | None:
        where = self.index.get(key)
        if where is None:
            return None
        self.file.seek(where[0])
        value: str = json.loads(self.file.read(where[1]))["v"]
        return value

    def remove(self, key: str) -> None:
        """Append a removal; KeyError if the key is not there."""
        with self.lock:
            self._remove(key)
        self._maybe_compact()

    def _remove(self, key: str) -> None:
        old = self.index.pop(key, None)
        if old is None:
            raise KeyError(f"Key not found: {key}")
        _, length = self._append({"op": "rm", "k": key})
        self.dead += old[1] + length

    def _maybe_compact(self) -> None:
        if self.dead >= COMPACT_AT:
            self._compact()  # without the lock

    def compact(self) -> None:
        """Copy the live records to a new log and swap it in atomically."""
        with self.lock:
            self._compact()

    def _compact(self) -> None:
        tmp = self.folder / (LOG + ".compact")
        index: dict[str, tuple[int, int]] = {}
        with open(tmp, "wb") as out:
            for key, (offset, length) in self.index.items():
                self.file.seek(offset)
                index[key] = (out.tell(), length)
                out.write(self.file.read(length))
            out.flush()
            os.fsync(out.fileno())
        self.file.close()
        os.replace(tmp, self.folder / LOG)
        self.file = open(self.folder / LOG, "a+b")  # noqa: SIM115
        self.index, self.dead = index, 0

    def close(self) -> None:
        """Release the log file (the store can be opened again afterwards)."""
        with self.lock:
            self.file.close()
