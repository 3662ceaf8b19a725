"""Mutant: records are a 4-byte length then JSON; replay checks the body is whole but
not the length prefix itself."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

COMPACT_AT = 1 << 20
LOG = "data.log"


class KvStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.index: dict[str, tuple[int, int]] = {}
        self.dead = 0
        self.file = open(folder / LOG, "a+b")  # noqa: SIM115
        self._load()

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> KvStore:
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder)

    def _load(self) -> None:
        self.file.seek(0)
        data = self.file.read()
        offset = 0
        while offset < len(data):
            (n,) = struct.unpack_from(">I", data, offset)  # a torn prefix raises: the bug
            body = data[offset + 4:offset + 4 + n]
            if len(body) < n:
                self.file.truncate(offset)
                break
            record = json.loads(body)
            old = self.index.pop(record["k"], None)
            if old is not None:
                self.dead += old[1]
            if record["op"] == "set":
                self.index[record["k"]] = (offset, 4 + n)
            else:
                self.dead += 4 + n
            offset += 4 + n

    def _append(self, record: dict[str, str]) -> tuple[int, int]:
        body = json.dumps(record, separators=(",", ":")).encode()
        self.file.seek(0, os.SEEK_END)
        offset = self.file.tell()
        self.file.write(struct.pack(">I", len(body)) + body)
        self.file.flush()
        return offset, 4 + len(body)

    def set(self, key: str, value: str) -> None:
        old = self.index.get(key)
        self.index[key] = self._append({"op": "set", "k": key, "v": value})
        if old is not None:
            self.dead += old[1]
            if self.dead >= COMPACT_AT:
                self.compact()

    def get(self, key: str) -> str | None:
        where = self.index.get(key)
        if where is None:
            return None
        self.file.seek(where[0] + 4)
        value: str = json.loads(self.file.read(where[1] - 4))["v"]
        return value

    def remove(self, key: str) -> None:
        old = self.index.pop(key, None)
        if old is None:
            raise KeyError(f"Key not found: {key}")
        _, length = self._append({"op": "rm", "k": key})
        self.dead += old[1] + length

    def compact(self) -> None:
        tmp = self.folder / (LOG + ".compact")
        index: dict[str, tuple[int, int]] = {}
        with open(tmp, "wb") as out:
            for key, (offset, length) in self.index.items():
                self.file.seek(offset)
                index[key] = (out.tell(), length)
                out.write(self.file.read(length))
        self.file.close()
        os.replace(tmp, self.folder / LOG)
        self.file = open(self.folder / LOG, "a+b")  # noqa: SIM115
        self.index, self.dead = index, 0

    def close(self) -> None:
        self.file.close()
