"""Mutant: everything, but the breaker opens for good: service never comes back."""

import asyncio

from distlab import Node, RPCError

node = Node()
THRESHOLD = 5  # consecutive timeouts that open the breaker
COOLDOWN = 0.5  # seconds open before one probe may go through
ATTEMPT = 0.25  # longest wait for one attempt: above the slow tail

failures = 0
open_until = 0.0
probing = False


async def guarded(body: dict, timeout: float) -> dict:
    """One call through the circuit breaker."""
    global failures, open_until, probing
    half_open = failures >= THRESHOLD
    if node.now() < open_until or (half_open and probing):
        raise RPCError(11, "circuit open: the backend is down, not calling it")
    probing = half_open
    try:
        reply = await node.rpc("backend", body, timeout=timeout)
    except RPCError as exc:
        if exc.code == 0:
            failures += 1
            if failures >= THRESHOLD:
                open_until = float("inf")  # open for good
        raise
    finally:
        if half_open:
            probing = False
    failures = 0
    return reply.body


@node.on("charge")
async def charge(msg):
    deadline = node.now() + msg.body["budget_ms"] / 1000
    body = {"type": "charge", "id": msg.body["id"], "amount": msg.body["amount"], "key": msg.body["id"]}
    unsure = False  # whether some attempt may have charged
    attempt = 0
    while True:
        remaining = deadline - node.now()
        if remaining <= 0.01:
            return RPCError(0 if unsure else 11, "deadline reached" + (": outcome unknown" if unsure else ""))
        body["budget_ms"] = int(remaining * 1000)
        try:
            reply = await guarded(dict(body), min(remaining, ATTEMPT))
            return {"type": "charge_ok", "receipt": reply["receipt"]}
        except RPCError as exc:
            if exc.code not in (0, 11):
                return exc
            if exc.text.startswith("circuit open"):
                return RPCError(0, "circuit open; an earlier attempt may have charged") if unsure else exc
            unsure = unsure or exc.code == 0
        await asyncio.sleep(min(node.random.uniform(0, 0.01 * 2**attempt), max(0.0, deadline - node.now())))
        attempt += 1


if __name__ == "__main__":
    node.run()
