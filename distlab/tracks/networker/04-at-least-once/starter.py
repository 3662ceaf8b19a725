"""Networker 4: at least once. Every acknowledged notification must have been sent."""

from distlab import Node, RPCError

node = Node()


@node.on("notify")
async def notify(msg):
    body = {"type": "notify", "id": msg.body["id"]}
    # TODO: 30% of messages are lost. Repeating a notification is harmless here, so
    # keep trying (with a short timeout and growing pauses) until the backend says
    # notify_ok; give up only after a few seconds.
    try:
        reply = await node.rpc("backend", body, timeout=0.5)
    except RPCError as exc:
        return exc
    return {"type": "notify_ok", "receipt": reply.body["receipt"]}


if __name__ == "__main__":
    node.run()
