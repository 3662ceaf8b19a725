"""A grow-only counter on seq-kv whose nodes are killed and restarted: no state in memory at all.

Each node still owns one key, `count-<node id>`, but it no longer keeps its
total in memory: an add reads its key and compare-and-sets it from the value
read to that value plus the delta. seq-kv may answer the read from the past,
but a cas is checked against the latest value, so a stale read only costs a
retry. A node that restarts has nothing to recover: the truth is in seq-kv.
"""

from distlab import Node, RPCError

node = Node()


async def kv(body: dict) -> dict:
    return (await node.rpc("seq-kv", body, timeout=1.0)).body


async def read(key: str) -> int:
    try:
        return (await kv({"type": "read", "key": key}))["value"]
    except RPCError as exc:
        if exc.code == 20:  # a node that never added has no key yet
            return 0
        raise


@node.on("add")
async def add(msg):
    mine = f"count-{node.id}"
    while True:
        current = await read(mine)
        try:
            await kv({"type": "cas", "key": mine, "from": current, "to": current + msg.body["delta"],
                      "create_if_not_exists": current == 0})
            return {"type": "add_ok"}
        except RPCError as exc:
            if exc.code != 22:
                raise
            # a stale read: read again


@node.on("read")
async def read_total(msg):
    await kv({"type": "write", "key": f"sync-{node.id}", "value": node.random.random()})
    value = 0
    for peer in node.node_ids:
        value += await read(f"count-{peer}")
    return {"type": "read_ok", "value": value}


if __name__ == "__main__":
    node.run()
