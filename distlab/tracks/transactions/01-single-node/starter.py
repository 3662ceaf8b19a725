"""Transactions: one node. Fill in the TODOs, then run `distlab check`."""

from distlab import Node

node = Node()
data: dict[str, int] = {}  # JSON keys are strings: store str(key)


@node.on("txn")
def transact(msg):
    result = []
    for kind, key, value in msg.body["txn"]:
        if kind == "r":
            result.append(["r", key, None])  # TODO: the value this transaction sees for key
        else:
            result.append(["w", key, value])  # TODO: apply the write (and, later, replicate it)
    return {"type": "txn_ok", "txn": result}


if __name__ == "__main__":
    node.run()
