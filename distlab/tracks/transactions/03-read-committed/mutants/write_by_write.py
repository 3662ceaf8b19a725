"""Mistake: replicates write by write, each one acknowledged before the next is sent.

A peer applies a transaction's writes one message at a time, so a read there can
see the first of two writes to a key that the transaction then overwrote.
"""

from distlab import Node, RPCError

node = Node()
data: dict[str, int] = {}
queue: list[list] = []  # [key, value] writes not yet shipped, in order
shipping = False


@node.on("txn")
def transact(msg):
    result = []
    for kind, key, value in msg.body["txn"]:
        if kind == "r":
            result.append(["r", key, data.get(str(key))])
        else:
            data[str(key)] = value
            result.append(["w", key, value])
            queue.append([key, value])
    if queue and not shipping:
        node.spawn(ship())
    return {"type": "txn_ok", "txn": result}


@node.on("write")
def write(msg):
    data[str(msg.body["key"])] = msg.body["value"]
    return {"type": "write_ok"}


async def ship() -> None:
    global shipping
    shipping = True
    try:
        while queue:
            key, value = queue[0]
            for peer in node.node_ids:
                if peer != node.id:
                    try:
                        await node.rpc(peer, {"type": "write", "key": key, "value": value}, timeout=1.0)
                    except RPCError:
                        pass  # the mistake is elsewhere: this one simply drops it
            queue.pop(0)
    finally:
        shipping = False


if __name__ == "__main__":
    node.run()
