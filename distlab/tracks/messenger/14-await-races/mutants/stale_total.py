"""Mutant: computes the new total, awaits the write, then stores it: two adds that
overlap on one node both start from the same total, and one of them is lost."""

from distlab import Node, RPCError

node = Node()
total = 0


async def kv(body: dict) -> dict:
    return (await node.rpc("lin-kv", body, timeout=1.0)).body


@node.on("add")
async def add(msg):
    global total
    new = total + msg.body["delta"]
    try:
        await kv({"type": "write", "key": f"total-{node.id}", "value": new})
    except RPCError as exc:
        return exc
    total = new
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
