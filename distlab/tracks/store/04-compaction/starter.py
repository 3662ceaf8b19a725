"""Your log-structured engine from the previous task, with compaction left to do."""

from __future__ import annotations

import json
import os
from pathlib import Path

COMPACT_AT = 1 << 20  # dead bytes that trigger a compaction
LOG = "data.log"


class KvStore:
    """String keys to string values, kept in a log file under a folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.index: dict[str, tuple[int, int]] = {}  # key -> (offset, length) of its set
        self.dead = 0
        self.file = open(folder / LOG, "a+b")  # noqa: SIM115 - kept open for the store's life
        self._load()

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> KvStore:
        """The store kept in folder `path` (created if missing), with all it held."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder)

    def _load(self) -> None:
        """Rebuild the index from the log."""
        self.file.seek(0)
        offset = 0
        for line in self.file:
            record = json.loads(line)
            # TODO: count the dead bytes found here (an older record of the same key,
            # a removal record and the set it removed)
            self.index.pop(record["k"], None)
            if record["op"] == "set":
                self.index[record["k"]] = (offset, len(line))
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
        old = self.index.get(key)
        self.index[key] = self._append({"op": "set", "k": key, "v": value})
        if old is not None:
            self.dead += old[1]
            self._maybe_compact()

    def get(self, key: str) -> str | None:
        """The latest value of `key` read from the log, or None."""
        where = self.index.get(key)
        if where is None:
            return None
        self.file.seek(where[0])
        value: str = json.loads(self.file.read(where[1]))["v"]
        return value

    def remove(self, key: str) -> None:
        """Append a removal; KeyError if the key is not there."""
        old = self.index.pop(key, None)
        if old is None:
            raise KeyError(f"Key not found: {key}")
        _, length = self._append({"op": "rm", "k": key})
        self.dead += old[1] + length
        self._maybe_compact()

    def _maybe_compact(self) -> None:
        if self.dead >= COMPACT_AT:
            self.compact()

    def compact(self) -> None:
        """TODO: copy the live records to a new log, swap it in atomically with
        os.replace, and point the index at the new offsets."""

    def close(self) -> None:
        """Release the log file (the store can be opened again afterwards)."""
        self.file.close()
