"""A grow-only counter on seq-kv (Gossip Glomers 4).

Each node owns one key, `count-<node id>`, which only it writes: no two nodes
ever race on a key, so no update is lost. A read sums every node's key. seq-kv
may serve a read from the past, so a read first writes a key of its own:
seq-kv shows a node everything up to its own latest write.
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
