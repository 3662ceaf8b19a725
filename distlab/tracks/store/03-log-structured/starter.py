"""Your log-structured key/value engine. The grader calls KvStore.open(folder), then
set/get/remove, then close() (if you define it) and open(folder) again."""

from __future__ import annotations

import os
from pathlib import Path


class KvStore:
    """String keys to string values, kept in a log file under a folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # TODO: open the log, and read it once to build the index (key -> where its value is)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> KvStore:
        """The store kept in folder `path` (create it if missing)."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder)

    def set(self, key: str, value: str) -> None:
        """TODO: append a record of the set to the log, then point the index at it."""

    def get(self, key: str) -> str | None:
        """TODO: look the key up in the index and read its value from the log."""
        return None

    def remove(self, key: str) -> None:
        """TODO: raise KeyError if the key is not there; else append a removal record."""

    def close(self) -> None:
        """TODO: close the log file."""
