"""Networker 5: exactly once, over a link that loses and duplicates messages."""

import asyncio

from distlab import Node, RPCError

node = Node()


@node.on("charge")
async def charge(msg):
    body = {"type": "charge", "id": msg.body["id"], "amount": msg.body["amount"]}
    # TODO: the backend runs a request carrying a "key" it has seen before only once
    # (it answers with the first execution's receipt). Add a key that is the same for
    # every attempt of this request, then retry timeouts and busy rejections until
    # the charge is confirmed, as in task 4.
    attempt = 0
    while True:
        try:
            reply = await node.rpc("backend", body, timeout=0.1)
            return {"type": "charge_ok", "receipt": reply.body["receipt"]}
        except RPCError as exc:
            if exc.code != 11 or attempt > 10:
                return exc
        await asyncio.sleep(node.random.uniform(0, min(0.2, 0.01 * 2**attempt)))
        attempt += 1


if __name__ == "__main__":
    node.run()
