"""Messenger 12, reference: every request awaits its own RPC, so many are in flight at once.

With 100 ms round trips, one request at a time would serve 10 a second; each
handler is its own task, and its await lets the others run, so the node serves
as many as arrive.
"""

from distlab import Node, RPCError

node = Node()


@node.on("generate")
async def generate(msg):
    try:
        reply = await node.rpc("lin-tso", {"type": "ts"}, timeout=1.0)
    except RPCError as exc:
        return exc
    return {"type": "generate_ok", "id": reply.body["ts"]}


if __name__ == "__main__":
    node.run()
