"""Mistake: answers every read of a transaction from the state before it, then applies the writes.

A transaction that writes x and then reads x does not see its own write.
"""

from distlab import Node

node = Node()
data: dict[str, int] = {}


@node.on("txn")
def transact(msg):
    before = dict(data)
    result = []
    for kind, key, value in msg.body["txn"]:
        if kind == "r":
            result.append(["r", key, before.get(str(key))])
        else:
            data[str(key)] = value
            result.append(["w", key, value])
    return {"type": "txn_ok", "txn": result}


if __name__ == "__main__":
    node.run()
