"""Two-phase commit that survives crashes: fill in the TODOs, then run `distlab check`.

Start from your transactions/two-phase-commit node (over lists now): this
starter runs each transaction on this node's memory alone.
"""

from distlab import Node, RPCError  # noqa: F401 (raise RPCError(30, ...) for txn-conflict)

node = Node()
data: dict[str, list] = {}  # the keys this node owns


def owner(key) -> str:
    return node.node_ids[int(key) % len(node.node_ids)]


@node.on("init")
def recover(msg):
    pass  # TODO: reload data, locks and decisions from node.storage; a new epoch for txids


@node.on("txn")
async def transact(msg):
    result = []
    for kind, key, value in msg.body["txn"]:
        # TODO: prepare at every owner (each syncs its locks), log the decision, answer,
        # then deliver the commits until acknowledged (each applied once)
        if kind == "r":
            result.append(["r", key, list(data[str(key)]) if str(key) in data else None])
        else:
            data.setdefault(str(key), []).append(value)
            result.append(["append", key, value])
    return {"type": "txn_ok", "txn": result}


if __name__ == "__main__":
    node.run()
