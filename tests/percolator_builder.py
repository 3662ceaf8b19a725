"""Test scaffolding for the Percolator store, shaped like TinyKV's kv/transaction/commands_test.go.

``Builder`` seeds column families, runs server requests, and asserts the *whole* store
afterwards: the expected state is the seeded state plus the entries a test names, minus the ones
it says are gone, compared entry by entry with every column family. Every written key must have
been latched (TinyKV's Latches.Validation), checked on every batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from distlab.systems.percolator.codec import encode_key
from distlab.systems.percolator.server import Server
from distlab.systems.percolator.storage import (
    CF_DEFAULT,
    CF_LOCK,
    CF_WRITE,
    CFS,
    Modify,
    Storage,
    open_storage,
)

ENGINES = ("memory", "rocksdb")
TS_MAX = (1 << 64) - 1


def make_storage(engine: str, tmp_path: Path) -> Storage:
    return open_storage(engine, tmp_path / "rocksdb" if engine == "rocksdb" else None, sync=False)


@dataclass(frozen=True)
class KV:
    """A user-level entry: ``ts`` 0 means the builder's latest timestamp; ``value`` None means unchanged."""

    cf: str
    key: bytes
    value: bytes | None = None
    ts: int = 0


def kv(cf: str, key: bytes | list[int], value: bytes | list[int] | None = None, ts: int = 0) -> KV:
    return KV(cf, bytes(key), None if value is None else bytes(value), ts)


def be64(*tail: int) -> int:
    """TinyKV's binary.BigEndian.Uint64 of an 8-byte list."""
    assert len(tail) == 8
    return int.from_bytes(bytes(tail), "big")


class Builder:
    """TinyKV's testBuilder: timestamps start at 99 and each request builder takes the next."""

    def __init__(self, storage: Storage, server_cls: type[Server] = Server) -> None:
        self.storage = storage
        self.server = server_cls(storage)
        self.prev_ts = 99
        self.initial: dict[str, dict[bytes, bytes]] = {cf: {} for cf in CFS}
        self.server.latches.validation = self._validate

    @staticmethod
    def _validate(latched: frozenset[bytes], touched: list[bytes]) -> None:
        unlatched = [k for k in touched if k not in latched]
        assert not unlatched, f"wrote keys that were not latched: {unlatched}"

    # timestamps
    def next_ts(self) -> int:
        self.prev_ts += 1
        return self.prev_ts

    def ts(self) -> int:
        """The latest timestamp as one byte, as TinyKV's builder.ts() (for literal byte arrays)."""
        return self.prev_ts & 0xFF

    def raw_key(self, e: KV) -> bytes:
        return e.key if e.cf == CF_LOCK else encode_key(e.key, e.ts or self.prev_ts)

    # seeding and running
    def init(self, entries: list[KV]) -> None:
        self.storage.write([Modify(e.cf, self.raw_key(e), e.value or b"") for e in entries])
        self.initial = self.contents()

    def run(self, method: str, req: dict) -> dict:
        return self.server.handle(method, req)

    def contents(self) -> dict[str, dict[bytes, bytes]]:
        return {cf: self.storage.dump(cf) for cf in CFS}

    # request builders (commands_test.go)
    def prewrite(self, *muts: dict, primary: bytes = b"\x01", ttl: int = 0) -> dict:
        return {
            "mutations": list(muts),
            "primary_lock": primary,
            "start_version": self.next_ts(),
            "lock_ttl": ttl,
        }

    def commit(self, *keys: bytes) -> dict:
        start = self.next_ts()
        return {"keys": list(keys), "start_version": start, "commit_version": start + 10}

    def rollback(self, *keys: bytes) -> dict:
        return {"keys": list(keys), "start_version": self.next_ts()}

    def check_txn_status(self, key: bytes) -> dict:
        self.next_ts()
        return {
            "primary_key": key,
            "lock_ts": be64(0, 0, 5, 0, 0, 0, 0, self.ts()),
            "current_ts": be64(0, 0, 6, 0, 0, 0, 0, self.ts()),
        }

    def scan(self, start: bytes, limit: int) -> dict:
        return {"start_key": start, "limit": limit, "version": self.next_ts()}

    # assertions
    def assert_lens(self, default: int, lock: int, write: int) -> None:
        got = {cf: len(v) for cf, v in self.contents().items()}
        assert got == {CF_DEFAULT: default, CF_LOCK: lock, CF_WRITE: write}, got

    def assert_state(
        self, lens: tuple[int, int, int], entries: list[KV] = (), gone: list[KV] = ()
    ) -> None:
        """Exact contents: seeded state, with ``entries`` set (or asserted unchanged) and ``gone`` removed."""
        self.assert_lens(*lens)
        expected = {cf: dict(v) for cf, v in self.initial.items()}
        for e in entries:
            raw = self.raw_key(e)
            if e.value is None:
                assert raw in self.initial[e.cf], f"{e} was not seeded, so cannot be 'unchanged'"
            else:
                expected[e.cf][raw] = e.value
        for e in gone:
            expected[e.cf].pop(self.raw_key(e), None)
        assert self.contents() == expected


def mutation(key: int, value: bytes | list[int] | None, op: str) -> dict:
    return {"op": op, "key": bytes([key]), "value": bytes(value or b"")}
