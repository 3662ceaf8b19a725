"""Transactions without isolation: each micro-op runs in turn, with a pause between.

Concurrent transactions see each other's writes half-way (intermediate reads),
and one in ten aborts with txn-conflict after it has already written (so others
may read a write that never committed: an aborted read).
"""

import asyncio

from distlab import Node, RPCError

node = Node()
data = {}


@node.on("txn")
async def transact(msg):
    result = []
    for kind, key, value in msg.body["txn"]:
        if kind == "r":
            result.append(["r", key, data.get(str(key))])
        else:
            data[str(key)] = value
            result.append([kind, key, value])
        await asyncio.sleep(0.005)
    if node.random.random() < 0.1:
        raise RPCError(30, "aborted (but its writes stay: the bug)")
    return {"type": "txn_ok", "txn": result}


if __name__ == "__main__":
    node.run()
