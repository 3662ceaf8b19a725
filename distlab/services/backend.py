"""`backend`: a downstream dependency that misbehaves on purpose, and keeps count.

The Networker track's nodes serve clients by calling this service. It executes
`charge` (not idempotent: every execution charges again), `notify` (repeats are
harmless), `quote` (read-only) and `report` (a slow, heavy endpoint), each
carrying the client's request `id`. It answers `<type>_ok {receipt}`, a number
unique to that execution (increasing by a random step, so no node can guess it).

How it misbehaves is a `Profile` the workload sets before the run: slow calls
(a heavy tail), definite rejections (error 11: nothing happened), outage windows
(no reply at all), a quota of calls per second and a pool of concurrent calls per
caller (both error 11 beyond). It honours an idempotency `key` (a repeated key
gets the first execution's receipt, nothing runs again) and a `budget_ms` (the
time the caller still has: work that cannot finish within it is abandoned, error
0, nothing executed).

Its record of every call (when it arrived, what became of it, when its work
finished) is what the networker checkers hold the node's answers against: the
runner writes it to the run directory as services.json.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

from distlab.protocol import (
    MALFORMED_REQUEST,
    NOT_SUPPORTED,
    TEMPORARILY_UNAVAILABLE,
    TIMEOUT,
    RPCError,
)
from distlab.services import Service

ENDPOINTS = ("charge", "notify", "quote", "report")


@dataclass(frozen=True)
class Profile:
    """How the backend behaves in one run (seconds unless named otherwise)."""

    latency: float = 0.005  # work per call
    slow_p: float = 0.0  # probability a call is slow ...
    slow: tuple[float, float] = (0.0, 0.0)  # ... taking uniform(lo, hi) instead
    endpoint_seconds: dict[str, float] = field(default_factory=dict)  # endpoints slower than `latency`
    reject_p: float = 0.0  # probability of a definite "busy" rejection (error 11) ...
    reject_after: float = 0.0  # ... sent this long after the call arrived
    outages: tuple[tuple[float, float], ...] = ()  # [start, end) windows: no reply, nothing done
    quota: int = 0  # calls accepted in any sliding second (0: no quota); beyond: error 11
    pool: int = 0  # calls in progress per caller (0: no limit); beyond: error 11


class Backend(Service):
    name = "backend"

    def __init__(self, rng: random.Random, profile: Profile | None = None) -> None:
        self.rng = rng
        self.profile = profile or Profile()
        self.calls: list[dict[str, Any]] = []
        self.next_receipt = 0
        self.keys: dict[str, tuple[int, float]] = {}  # idempotency key -> (receipt, when its work is done)
        self.recent: list[float] = []  # arrival times of calls within the last second (quota)
        self.busy_until: dict[str, list[float]] = {}  # caller -> when each of its calls in progress ends

    def configure(self, profile: Profile) -> None:
        self.profile = profile

    def record(self) -> dict[str, Any] | None:
        """Every call with its fate (and the profile), or None if nobody called."""
        return {"profile": asdict(self.profile), "calls": self.calls} if self.calls else None

    def reply(self, src: str, body: dict[str, Any], now: float) -> dict[str, Any] | None:
        return self.respond(src, body, now)[0]

    def handle(self, src: str, body: dict[str, Any], now: float) -> dict[str, Any]:
        """Serve one call through the plain Service interface: recorded as any call, its
        answer returned at once (respond(), which the runtimes use, also says when)."""
        out, _delay = self._serve(src, body, now)
        return out if out is not None else {}

    def respond(self, src: str, body: dict[str, Any], now: float) -> tuple[dict[str, Any] | None, float]:
        msg_id = body.get("msg_id")
        try:
            out, delay = self._serve(src, body, now)
        except RPCError as exc:
            out, delay = exc.to_body(), 0.0
        if out is None or msg_id is None:
            return None, 0.0
        out["in_reply_to"] = msg_id
        return out, delay

    def _serve(self, src: str, body: dict[str, Any], now: float) -> tuple[dict[str, Any] | None, float]:
        """Record the call, do its work (RPCError for a refusal), note when it is done."""
        call: dict[str, Any] = {"t": round(now, 6), "src": src, "type": body.get("type"), "id": body.get("id"),
                                "key": body.get("key"), "budget_ms": body.get("budget_ms")}
        self.calls.append(call)
        try:
            out, delay = self._work(src, body, now, call)
        except RPCError:
            call["done"] = round(now, 6)
            raise
        call["done"] = round(now + delay, 6)
        return out, delay

    def _work(self, src: str, body: dict[str, Any], now: float,
              call: dict[str, Any]) -> tuple[dict[str, Any] | None, float]:
        p = self.profile
        kind = body.get("type")
        if kind not in ENDPOINTS:
            call["outcome"] = "unsupported"
            raise RPCError(NOT_SUPPORTED, f"backend does not support {kind!r}")
        if not isinstance(body.get("id"), str) or (kind == "charge" and not isinstance(body.get("amount"), int)):
            call["outcome"] = "malformed"
            raise RPCError(MALFORMED_REQUEST, f"backend: {kind} needs a string id"
                           + (" and an integer amount" if kind == "charge" else ""))
        if any(start <= now < end for start, end in p.outages):
            call["outcome"] = "down"
            return None, 0.0
        if p.quota:
            self.recent = [t for t in self.recent if t > now - 1.0]
            self.recent.append(now)
            if len(self.recent) > p.quota:
                call["outcome"] = "quota"
                raise RPCError(TEMPORARILY_UNAVAILABLE, f"backend: over the quota of {p.quota} calls a second")
        ends = [t for t in self.busy_until.get(src, ()) if t > now]
        self.busy_until[src] = ends
        if p.pool and len(ends) >= p.pool:
            call["outcome"] = "pool"
            raise RPCError(TEMPORARILY_UNAVAILABLE, f"backend: {src} already has {p.pool} calls in progress")
        if p.reject_p and self.rng.random() < p.reject_p:
            call["outcome"] = "busy"
            ends.append(now + p.reject_after)
            return RPCError(TEMPORARILY_UNAVAILABLE, "backend: busy, nothing done; try again").to_body(), p.reject_after
        budget = body.get("budget_ms")
        if budget is not None and budget <= 0:
            call["outcome"] = "expired"
            raise RPCError(TIMEOUT, "backend: the caller's budget was already spent; nothing done")
        key = body.get("key")
        if key is not None and key in self.keys:
            receipt, done = self.keys[key]
            call["outcome"] = "replayed"
            call["receipt"] = receipt
            delay = max(done - now, 0.0)  # a replay is a lookup, once the first one is done
            ends.append(now + delay)
            return {"type": f"{kind}_ok", "receipt": receipt}, delay
        seconds = p.endpoint_seconds.get(kind, p.latency)
        if p.slow_p and self.rng.random() < p.slow_p:
            seconds = self.rng.uniform(*p.slow)
        if budget is not None and seconds > budget / 1000:
            call["outcome"] = "expired"
            ends.append(now + budget / 1000)
            return RPCError(TIMEOUT, f"backend: the work needed more than the {budget} ms budget; "
                            "abandoned, nothing done").to_body(), budget / 1000
        self.next_receipt += self.rng.randint(1, 999)  # unique, and not a count a node could keep itself
        call["outcome"] = "executed"
        call["receipt"] = self.next_receipt
        if key is not None:
            self.keys[key] = (self.next_receipt, now + seconds)
        ends.append(now + seconds)
        return {"type": f"{kind}_ok", "receipt": self.next_receipt}, seconds
