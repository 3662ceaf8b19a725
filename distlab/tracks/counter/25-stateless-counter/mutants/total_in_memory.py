"""Mistake: keeps its own running total in memory and writes it to its key (counter/g-counter's design).

Right until the node is killed: it restarts with a total of 0, and its next
write replaces everything it had stored with a small number.
"""

from distlab import Node, RPCError

node = Node()
total: int = 0  # this node's own contribution, mirrored to seq-kv


async def kv(body: dict) -> dict:
    return (await node.rpc("seq-kv", body, timeout=1.0)).body


@node.on("add")
async def add(msg):
    global total
    total += msg.body["delta"]
    await kv({"type": "write", "key": f"count-{node.id}", "value": total})
    return {"type": "add_ok"}


@node.on("read")
async def read(msg):
    await kv({"type": "write", "key": f"sync-{node.id}", "value": node.random.random()})
    value = 0
    for peer in node.node_ids:
        try:
            value += (await kv({"type": "read", "key": f"count-{peer}"}))["value"]
        except RPCError as exc:
            if exc.code != 20:  # a node that never added has no key yet
                raise
    return {"type": "read_ok", "value": value}


if __name__ == "__main__":
    node.run()
