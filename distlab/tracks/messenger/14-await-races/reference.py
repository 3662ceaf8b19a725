"""Messenger 14, reference: change shared state before an await, never across one.

Each node owns the key `total-<node>` in lin-kv, written only by itself. An add
updates the node's total at once (no await between reading and writing it),
then writes the new total and acknowledges once the write is done. Links
deliver in order, so the last write to arrive carries the latest total.
"""

from distlab import Node, RPCError

node = Node()
total = 0


async def kv(body: dict) -> dict:
    return (await node.rpc("lin-kv", body, timeout=1.0)).body


@node.on("add")
async def add(msg):
    global total
    total += msg.body["delta"]
    try:
        await kv({"type": "write", "key": f"total-{node.id}", "value": total})
    except RPCError as exc:
        return exc
    return {"type": "add_ok"}


@node.on("read")
async def read(msg):
    value = 0
    for peer in node.node_ids:
        try:
            value += (await kv({"type": "read", "key": f"total-{peer}"}))["value"]
        except RPCError as exc:
            if exc.code != 20:  # 20: that node has not added anything yet
                return exc
    return {"type": "read_ok", "value": value}


if __name__ == "__main__":
    node.run()
