"""Elector 1: a failure detector that asks. Answer `suspects` with the peers that do not
answer a ping in time."""

from distlab import Node

node = Node()
TIMEOUT = 0.5  # seconds to wait for a pong


@node.on("ping")
def ping(msg):
    return {"type": "pong"}


@node.on("suspects")
async def suspects(msg):
    peers = [p for p in node.node_ids if p != node.id]
    # TODO: ping every peer (node.rpc(peer, {"type": "ping"}, timeout=TIMEOUT)), all at
    # once (asyncio.gather), and list those whose ping raised RPCError (a timeout).
    del peers
    return {"type": "suspects_ok", "suspects": []}


if __name__ == "__main__":
    node.run()
