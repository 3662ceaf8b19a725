"""Mutant: one attempt; a lost message fails the request."""

from distlab import Node, RPCError

node = Node()


@node.on("notify")
async def notify(msg):
    try:
        reply = await node.rpc("backend", {"type": "notify", "id": msg.body["id"]}, timeout=0.5)
    except RPCError as exc:
        return exc
    return {"type": "notify_ok", "receipt": reply.body["receipt"]}


if __name__ == "__main__":
    node.run()
