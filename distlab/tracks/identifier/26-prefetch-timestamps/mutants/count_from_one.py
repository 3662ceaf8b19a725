"""Mistake: asks lin-tso once per node, then counts up locally from that number.

Three nodes get 0, 1 and 2 from the oracle, and their counters run over each
other's numbers at once.
"""

from distlab import Node, RPCError

node = Node()
next_id: int | None = None


@node.on("generate")
async def generate(msg):
    global next_id
    while next_id is None:
        try:
            next_id = (await node.rpc("lin-tso", {"type": "ts"}, timeout=1.0)).body["ts"]
        except RPCError:
            pass
    next_id += 1
    return {"type": "generate_ok", "id": next_id}


if __name__ == "__main__":
    node.run()
