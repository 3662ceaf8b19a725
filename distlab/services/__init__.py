"""Maelstrom's built-in services, which nodes reach by sending to their names.

`lin-kv` is linearizable; `seq-kv` is only sequentially consistent (anything
that changes nothing, a read or a no-op cas, may run on any of the last 32
states no older than the last one that same node dealt with); `lww-kv` is a
set of replicas merged lazily by last-write-wins, so reads go stale and
compare-and-set can lose updates; `lin-tso` hands out strictly increasing
timestamps. The weaker ones really are weaker, reproducibly by seed in the
simulator, so a node that assumes more than it gets fails as it would under
Maelstrom.

A service is pure: `handle(src, body, now)` returns the reply body. The wire
delivers requests and replies with the network's latency, like any server
message. `backend` (distlab/services/backend.py) is the Networker track's
misbehaving dependency: its `respond` also says how long its work takes, and
its `record` is what the run's checker holds the node's answers against.
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

    def respond(self, src: str, body: dict[str, Any], now: float) -> tuple[dict[str, Any] | None, float]:
        """The reply and how many seconds after `now` the service sends it (its work
        time, before the network's latency); every runtime's wire honours the delay."""
        return self.reply(src, body, now), 0.0

    def record(self) -> dict[str, Any] | None:
        """What the service saw, for checkers (written to the run's services.json), or None."""
        return None

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


SEQ_KV_WINDOW = 32
"""Past states seq-kv keeps, as Maelstrom's `sequential` service (a ring buffer of 32)."""


def _same(a: Any, b: Any) -> bool:
    """Equality as Clojure's `=` sees JSON values: 1, 1.0 and true are three values."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    return bool(a == b)


class SeqKV(KVSemantics):
    """Maelstrom's seq-kv: one total order of states, of which the last 32 are kept.

    Each sender has a position in that order (the last state it dealt with).
    A request runs on a state drawn uniformly from its sender's position to
    the newest (within the window). If it leaves that state unchanged (a read,
    any error, a failing cas, a cas or write that puts back the value already
    there), that is its answer, from the past. Otherwise it runs again on the
    newest state and makes a new one (even if, there, it changes nothing).
    The sender moves to the state it used. So reads, and writes that change
    nothing, may see the past; only a real change brings a node up to date.

    Maelstrom picks the state as `position + rand(newest - position + 1)` and
    indexes its ring buffer modulo its size, so a position older than the
    window wraps around to some state inside it (and a sender can then see an
    older state next time). Here the draw is from the window's part of that
    range instead, which keeps each sender's states monotonic, as its
    documentation promises.
    """

    name = "seq-kv"

    def __init__(self, rng: random.Random, window: int = SEQ_KV_WINDOW) -> None:
        self.rng = rng
        self.window = window
        self.last = 0  # the newest state's number; state 0 is the empty map
        self.history: dict[Any, tuple[list[int], list[Any]]] = {}  # key -> (states, values) where it changed
        self.seen: dict[str, int] = {}  # sender -> the state it last dealt with

    def _at(self, key: Any, state: int) -> Any:
        entry = self.history.get(key)
        if entry is None:
            return _ABSENT
        states, values = entry
        i = bisect.bisect_right(states, state) - 1
        return values[i] if i >= 0 else _ABSENT

    def handle(self, src: str, body: dict[str, Any], now: float) -> dict[str, Any]:
        oldest = self.last - self.window + 1
        low = max(self.seen.get(src, 0), oldest, 0)
        state = self.rng.randint(low, self.last) if low < self.last else self.last
        writes: list[tuple[Any, Any]] = []
        try:
            out = self.apply(lambda k: self._at(k, state), lambda k, v: writes.append((k, v)), body)
        except RPCError:
            self.seen[src] = state  # an error changes nothing: answered from that state
            raise
        if all(_same(self._at(k, state), v) for k, v in writes):
            self.seen[src] = state
            return out
        # It would change that state: run it on the newest one, which makes a new state.
        self.last += 1
        self.seen[src] = self.last
        return self.apply(lambda k: self._at(k, self.last - 1), self._write, body)

    def _write(self, key: Any, value: Any) -> None:
        states, values = self.history.setdefault(key, ([], []))
        states.append(self.last)
        values.append(value)
        # Keep only what the window can still ask for: the value as of its oldest state on.
        oldest = self.last - self.window + 1
        drop = 0
        while drop + 1 < len(states) and states[drop + 1] <= oldest:
            drop += 1
        if drop:
            del states[:drop], values[:drop]


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


from distlab.services.backend import Backend  # noqa: E402  (it builds on Service, above)

SERVICES: dict[str, type[Service]] = {cls.name: cls for cls in (LinKV, SeqKV, LwwKV, LinTSO, Backend)}


def make_services(seed: int) -> dict[str, Service]:
    """One instance of each service, each with its own stream of the run's randomness."""
    return {name: cls(random.Random(f"{seed}/service/{name}")) for name, cls in SERVICES.items()}
