"""Mutant: n0 hands out every id; the others ask it. Unique, but not available."""

from distlab import Node, RPCError

node = Node()
counter = 0


@node.on("next_id")
def next_id(msg):
    global counter
    counter += 1
    return {"type": "next_id_ok", "id": counter}


@node.on("generate")
async def generate(msg):
    if node.id == node.node_ids[0]:
        return next_id(msg) | {"type": "generate_ok"}
    try:
        reply = await node.rpc(node.node_ids[0], {"type": "next_id"}, timeout=1.0)
    except RPCError as exc:
        return exc
    return {"type": "generate_ok", "id": reply.body["id"]}


if __name__ == "__main__":
    node.run()
