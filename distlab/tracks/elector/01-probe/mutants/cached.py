"""Elector 1, mutant: caches the probe results for 10 s to save messages, so a node that
crashed since the last round of pings is not suspected."""

import asyncio

from distlab import Node, RPCError

node = Node()
TIMEOUT = 0.5
CACHE_FOR = 10.0
cache = {"at": None, "suspects": []}


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
    if cache["at"] is None or node.now() - cache["at"] > CACHE_FOR:
        peers = [p for p in node.node_ids if p != node.id]
        answers = await asyncio.gather(*(alive(p) for p in peers))
        cache["suspects"] = [p for p, ok in zip(peers, answers, strict=True) if not ok]
        cache["at"] = node.now()
    return {"type": "suspects_ok", "suspects": cache["suspects"]}


if __name__ == "__main__":
    node.run()
