"""Messenger 2, reference: serve lin-kv by forwarding each request to the lin-kv service.

An async handler awaits the service's reply; while it waits, the node serves
other requests. An error from the service is raised as RPCError and returned as
it is, so the client sees the same code (20, 22) the service gave.
"""

from distlab import Node, RPCError

node = Node()


async def forward(msg):
    body = {k: v for k, v in msg.body.items() if k != "msg_id"}
    try:
        reply = await node.rpc("lin-kv", body, timeout=1.0)
    except RPCError as exc:
        return exc
    return {k: v for k, v in reply.body.items() if k != "in_reply_to"}


for kind in ("read", "write", "cas"):
    node.on(kind)(forward)

if __name__ == "__main__":
    node.run()
