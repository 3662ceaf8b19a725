"""A single-node transactional key/value store (Gossip Glomers 6a).

A handler that never awaits runs to completion before the next message is
handled, so each transaction is applied atomically and in one total order:
one node alone is serializable for free.
"""

from distlab import Node

node = Node()
data: dict[str, int] = {}


@node.on("txn")
def transact(msg):
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
