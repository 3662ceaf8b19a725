"""A Percolator client: buffered writes, prewrite, commit the primary, then the secondaries."""

from __future__ import annotations

TTL_MS = 3000


class Client:
    def __init__(self, send, oracle, sleep) -> None:
        self.send, self.oracle, self.sleep = send, oracle, sleep
        self.start_ts = 0
        self.writes: dict[bytes, bytes] = {}

    def begin(self) -> None:
        self.start_ts = self.oracle()
        self.writes = {}

    def get(self, key: bytes) -> bytes | None:
        resp = self.send("kv_get", {"key": key, "version": self.start_ts})
        if resp["error"]:
            raise RuntimeError(f"{key!r} is locked (resolving locks is the next task)")
        return None if resp["not_found"] else resp["value"]

    def set(self, key: bytes, value: bytes) -> None:
        self.writes[key] = value

    def commit(self) -> bool:
        """Two-phase commit; True iff the transaction committed."""
        return False  # TODO
