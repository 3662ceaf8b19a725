"""A grow-only counter on lww-kv, a last-write-wins store whose compare-and-set is unsafe.

lww-kv keeps several replicas and merges them later by timestamp, so two
compare-and-sets on two replicas can both succeed and one is silently dropped.
The counter never relies on that: each node owns one key, `count-<node id>`, and
writes its whole running total there (kept in memory, it never reads its own key
back). Only the owner writes a key, and each write carries a larger total than
the one before, so whichever write wins a merge it is the newest. Reads sum every
node's key; they may be stale for a moment but settle once the replicas merge.
"""

from distlab import Node, RPCError

node = Node()
total: int = 0  # this node's own adds: the only copy that is always up to date


async def kv(body: dict) -> dict:
    return (await node.rpc("lww-kv", body, timeout=1.0)).body


@node.on("add")
async def add(msg):
    global total
    total += msg.body["delta"]
    await kv({"type": "write", "key": f"count-{node.id}", "value": total})
    return {"type": "add_ok"}


@node.on("read")
async def read(msg):
    value = 0
    for peer in node.node_ids:
        if peer == node.id:
            value += total
            continue
        try:
            value += (await kv({"type": "read", "key": f"count-{peer}"}))["value"]
        except RPCError as exc:
            if exc.code != 20:  # a node that never added has no key yet
                raise
    return {"type": "read_ok", "value": value}


if __name__ == "__main__":
    node.run()
