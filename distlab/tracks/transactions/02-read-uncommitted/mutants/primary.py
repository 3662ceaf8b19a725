"""Mistake: every transaction runs on one primary node (the first); the others forward to it.

Consistent, but a node cut off from the primary cannot answer: not totally available.
"""

from distlab import Node

node = Node()
data: dict[str, int] = {}


@node.on("txn")
async def transact(msg):
    primary = node.node_ids[0]
    if node.id != primary:
        reply = await node.rpc(primary, {"type": "txn", "txn": msg.body["txn"]}, timeout=1.0)
        return {"type": "txn_ok", "txn": reply.body["txn"]}
    result = []
    for kind, key, value in msg.body["txn"]:
        if kind == "r":
            result.append(["r", key, data.get(str(key))])
        else:
            data[str(key)] = value
            result.append(["w", key, value])
    return {"type": "txn_ok", "txn": result}


if __name__ == "__main__":
    node.run()
