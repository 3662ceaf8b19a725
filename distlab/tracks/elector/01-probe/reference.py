"""Elector 1, reference: a failure detector that asks. On each `suspects` request, ping
every other node at once; whoever does not answer within the timeout is suspected."""

import asyncio

from distlab import Node, RPCError

node = Node()
TIMEOUT = 0.5  # seconds: far above a healthy round trip, far below the 2 s deadline


@node.on("ping")
def ping(msg):
    return {"type": "pong"}


async def alive(peer: str) -> bool:
    try:
        await node.rpc(peer, {"type": "ping"}, timeout=TIMEOUT)
        return True
    except RPCError:
        return False


@node.on("suspects")
async def suspects(msg):
    peers = [p for p in node.node_ids if p != node.id]
    answers = await asyncio.gather(*(alive(p) for p in peers))
    return {"type": "suspects_ok", "suspects": [p for p, ok in zip(peers, answers, strict=True) if not ok]}


if __name__ == "__main__":
    node.run()
