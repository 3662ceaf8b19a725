"""Networker 9, reference: hedged requests. A quote that has not come back by about the
95th percentile of normal latency is asked for again; the first answer wins and the
other call is cancelled."""

import asyncio

from distlab import Node, RPCError

node = Node()
HEDGE_AFTER = 0.03  # about the 95th percentile of a normal call


@node.on("quote")
async def quote(msg):
    body = {"type": "quote", "id": msg.body["id"]}
    first = asyncio.ensure_future(node.rpc("backend", dict(body), timeout=1.0))
    done, _ = await asyncio.wait({first}, timeout=HEDGE_AFTER)
    calls = {first}
    if not done:  # slow: ask again, take whichever answers first
        calls.add(asyncio.ensure_future(node.rpc("backend", dict(body), timeout=1.0)))
    error = None
    while calls:
        done, calls = await asyncio.wait(calls, return_when=asyncio.FIRST_COMPLETED)
        for call in done:
            try:
                reply = call.result()
            except RPCError as exc:
                error = exc
                continue
            for other in calls:
                other.cancel()
            return {"type": "quote_ok", "receipt": reply.body["receipt"]}
    return error

if __name__ == "__main__":
    node.run()
