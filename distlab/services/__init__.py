"""Maelstrom's built-in services, which nodes reach by sending to their names.

`lin-kv` is linearizable; `seq-kv` is only sequentially consistent (a read may
return any state no older than the last one that same node saw); `lww-kv` is a
set of replicas merged lazily by last-write-wins, so reads go stale and
compare-and-set can lose updates; `lin-tso` hands out strictly increasing
timestamps. The weaker ones really are weaker, reproducibly by seed in the
simulator, so a node that assumes more than it gets fails as it would under
Maelstrom.

A service is pure: `handle(src, body, now)` returns the reply body. The wire
delivers requests and replies with the network's latency, like any server
message.
"""

from __future__ import annotations

import bisect
import random
from abc import ABC, abstractmethod
from typing import Any

from distlab.protocol import (
    KEY_DOES_NOT_EXIST,
    MALFORMED_REQUEST,
    NOT_SUPPORTED,
    PRECONDITION_FAILED,
    RPCError,
)

_ABSENT = object()


class Service(ABC):
    name: str

    def reply(self, src: str, body: dict[str, Any], now: float) -> dict[str, Any] | None:
        """The reply to one request (None for a message that wants none)."""
        msg_id = body.get("msg_id")
        try:
            out = self.handle(src, body, now)
        except RPCError as exc:
            out = exc.to_body()
        except (KeyError, TypeError, ValueError) as exc:
            out = RPCError(MALFORMED_REQUEST, f"{self.name}: bad {body.get('type')!r} request: {exc}").to_body()
        if msg_id is None:
            return None
        out["in_reply_to"] = msg_id
        return out

    @abstractmethod
    def handle(self, src: str, body: dict[str, Any], now: float) -> dict[str, Any]:
        """Apply one request; raise RPCError for an error reply."""


def _kv_key(body: dict[str, Any]) -> Any:
    key = body["key"]
    return key if isinstance(key, str | int) else repr(key)


class KVSemantics(Service):
    """read / write / cas on one map (the part every kv service shares)."""

    def apply(self, state_get: Any, state_set: Any, body: dict[str, Any]) -> dict[str, Any]:
        kind = body["type"]
        key = _kv_key(body)
        if kind == "read":
            value = state_get(key)
            if value is _ABSENT:
                raise RPCError(KEY_DOES_NOT_EXIST, f"key {body['key']!r} does not exist")
            return {"type": "read_ok", "value": value}
        if kind == "write":
            state_set(key, body["value"])
            return {"type": "write_ok"}
        if kind == "cas":
            current = state_get(key)
            if current is _ABSENT:
                if not body.get("create_if_not_exists"):
                    raise RPCError(KEY_DOES_NOT_EXIST, f"key {body['key']!r} does not exist")
            elif current != body["from"]:
                raise RPCError(PRECONDITION_FAILED, f"expected {body['from']!r}, but had {current!r}")
            state_set(key, body["to"])
            return {"type": "cas_ok"}
        raise RPCError(NOT_SUPPORTED, f"{self.name} does not support {kind!r}")


class LinKV(KVSemantics):
    """Every request takes effect atomically when it arrives: linearizable."""

    name = "lin-kv"

    def __init__(self, rng: random.Random) -> None:
        self.data: dict[Any, Any] = {}

    def handle(self, src: str, body: dict[str, Any], now: float) -> dict[str, Any]:
        return self.apply(lambda k: self.data.get(k, _ABSENT), self.data.__setitem__, body)


class SeqKV(KVSemantics):
    """Writes are totally ordered; each node reads some version no older than its last.

    Every write makes a new global version; per key we keep (version, value)
    pairs. A read picks a random version between the last one this node saw
    and the newest, which is exactly the freedom sequential consistency allows.
    """

    name = "seq-kv"

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.version = 0
        self.history: dict[Any, tuple[list[int], list[Any]]] = {}
        self.seen: dict[str, int] = {}

    def _at(self, key: Any, version: int) -> Any:
        entry = self.history.get(key)
        if entry is None:
            return _ABSENT
        versions, values = entry
        i = bisect.bisect_right(versions, version) - 1
        return values[i] if i >= 0 else _ABSENT

    def _write(self, key: Any, value: Any) -> None:
        self.version += 1
        versions, values = self.history.setdefault(key, ([], []))
        versions.append(self.version)
        values.append(value)

    def handle(self, src: str, body: dict[str, Any], now: float) -> dict[str, Any]:
        if body["type"] == "read":
            low = self.seen.get(src, 0)
            version = self.rng.randint(low, self.version) if low < self.version else self.version
            self.seen[src] = version
            return self.apply(lambda k: self._at(k, version), None, body)
        out = self.apply(lambda k: self._at(k, self.version), self._write, body)
        self.seen[src] = self.version  # a node sees its own writes
        return out


class LwwKV(KVSemantics):
    """Replicas that each apply requests locally and merge by last-write-wins now and then.

    A request lands on a random replica; replicas merge every `merge_every`
    seconds. Reads are stale between merges, and two compare-and-sets can both
    succeed on different replicas — one of them is then silently lost.
    """

    name = "lww-kv"

    def __init__(self, rng: random.Random, replicas: int = 3, merge_every: float = 0.5) -> None:
        self.rng = rng
        self.replicas: list[dict[Any, tuple[float, int, Any]]] = [{} for _ in range(replicas)]
        self.merge_every = merge_every
        self.last_merge = 0.0
        self.writes = 0

    def _merge(self) -> None:
        merged: dict[Any, tuple[float, int, Any]] = {}
        for replica in self.replicas:
            for key, stamped in replica.items():
                if key not in merged or stamped[:2] > merged[key][:2]:
                    merged[key] = stamped
        self.replicas = [dict(merged) for _ in self.replicas]

    def handle(self, src: str, body: dict[str, Any], now: float) -> dict[str, Any]:
        if now - self.last_merge >= self.merge_every:
            self._merge()
            self.last_merge = now
        replica = self.replicas[self.rng.randrange(len(self.replicas))]

        def get(key: Any) -> Any:
            stamped = replica.get(key)
            return _ABSENT if stamped is None else stamped[2]

        def put(key: Any, value: Any) -> None:
            self.writes += 1
            replica[key] = (now, self.writes, value)

        return self.apply(get, put, body)


class LinTSO(Service):
    """A timestamp oracle: strictly increasing integers from 0."""

    name = "lin-tso"

    def __init__(self, rng: random.Random) -> None:
        self.next = 0

    def handle(self, src: str, body: dict[str, Any], now: float) -> dict[str, Any]:
        if body["type"] != "ts":
            raise RPCError(NOT_SUPPORTED, f"lin-tso does not support {body['type']!r}")
        ts = self.next
        self.next += 1
        return {"type": "ts_ok", "ts": ts}


SERVICES: dict[str, type[Service]] = {cls.name: cls for cls in (LinKV, SeqKV, LwwKV, LinTSO)}


def make_services(seed: int) -> dict[str, Service]:
    """One instance of each service, each with its own stream of the run's randomness."""
    return {name: cls(random.Random(f"{seed}/service/{name}")) for name, cls in SERVICES.items()}
