"""Messenger 14: a counter in lin-kv, with several add handlers interleaving on a node."""

from distlab import Node, RPCError

node = Node()
total = 0


async def kv(body: dict) -> dict:
    return (await node.rpc("lin-kv", body, timeout=1.0)).body


@node.on("add")
async def add(msg):
    global total
    # TODO: another add can run while this one awaits the write below. Does
    # `total = new` afterwards keep its delta?
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
