"""Two-phase commit across key owners: fill in the TODOs, then run `distlab check`."""

from distlab import Node, RPCError  # noqa: F401 (raise RPCError(30, ...) for txn-conflict)

node = Node()
data: dict[str, int] = {}  # the keys this node owns
locks: dict[str, str] = {}  # key -> id of the transaction holding it


def owner(key) -> str:
    return node.node_ids[int(key) % len(node.node_ids)]


@node.on("txn")
async def transact(msg):
    result = []
    for kind, key, value in msg.body["txn"]:
        # TODO: prepare (lock and read every key at its owner), then commit (write and
        # unlock); on a refusal release the locks you got and try again
        result.append([kind, key, value])
    return {"type": "txn_ok", "txn": result}


if __name__ == "__main__":
    node.run()
