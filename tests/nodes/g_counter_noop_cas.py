"""A g-counter on seq-kv that "refreshes" with a compare-and-set that changes nothing.

Like distlab/examples/g_counter.py, except that before a read it does
cas sync-<id> 0 -> 0 instead of writing a fresh value. Under Maelstrom's
seq-kv an operation that leaves the state as it was may run on a past state,
so the cas brings nothing up to date and the read that follows can be stale:
final reads then miss adds.
"""

from distlab import Node, RPCError

node = Node()
total = 0


async def kv(body):
    return (await node.rpc("seq-kv", body, timeout=1.0)).body


@node.on("add")
async def add(msg):
    global total
    total += msg.body["delta"]
    await kv({"type": "write", "key": f"count-{node.id}", "value": total})
    return {"type": "add_ok"}


@node.on("read")
async def read(msg):
    await kv({"type": "cas", "key": f"sync-{node.id}", "from": 0, "to": 0, "create_if_not_exists": True})
    value = 0
    for peer in node.node_ids:
        try:
            value += (await kv({"type": "read", "key": f"count-{peer}"}))["value"]
        except RPCError as exc:
            if exc.code != 20:
                raise
    return {"type": "read_ok", "value": value}


if __name__ == "__main__":
    node.run()
