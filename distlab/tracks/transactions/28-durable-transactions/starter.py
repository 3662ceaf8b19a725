"""Transactions that survive kills: this one forgets everything. Fill in the TODOs, then `distlab check`."""

from distlab import Node

node = Node()
data: dict[str, list] = {}  # JSON keys are strings: store str(key)


@node.on("init")
def recover(msg):
    pass  # TODO: rebuild `data` from node.storage (it survives a kill)


@node.on("txn")
def transact(msg):
    result = []
    for kind, key, value in msg.body["txn"]:
        if kind == "r":
            result.append(["r", key, list(data[str(key)]) if str(key) in data else None])
        else:
            data.setdefault(str(key), []).append(value)
            result.append(["append", key, value])
    # TODO: write the transaction's appends to node.storage and sync before acknowledging
    return {"type": "txn_ok", "txn": result}


if __name__ == "__main__":
    node.run()
