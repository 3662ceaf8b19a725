"""Networker 9: hedge slow quotes."""

import asyncio

from distlab import Node, RPCError

node = Node()
HEDGE_AFTER = 0.03


@node.on("quote")
async def quote(msg):
    body = {"type": "quote", "id": msg.body["id"]}
    first = asyncio.ensure_future(node.rpc("backend", dict(body), timeout=1.0))
    # TODO: if `first` has not finished within HEDGE_AFTER seconds
    # (asyncio.wait({first}, timeout=HEDGE_AFTER)), start a second identical call and
    # answer with whichever finishes first (asyncio.wait(..., return_when=FIRST_COMPLETED)).
    try:
        reply = await first
    except RPCError as exc:
        return exc
    return {"type": "quote_ok", "receipt": reply.body["receipt"]}


if __name__ == "__main__":
    node.run()
