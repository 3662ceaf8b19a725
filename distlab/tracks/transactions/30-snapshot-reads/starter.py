"""Snapshot reads that never abort: fill in the TODOs, then run `distlab check`.

Start from your transactions/two-phase-commit node (over lists now): this
starter runs each transaction on this node's memory alone.
"""

from distlab import Node, RPCError  # noqa: F401 (raise RPCError(30, ...) for txn-conflict)

node = Node()
versions: dict[str, list] = {}  # key -> [[commit ts, list], ...] for the keys this node owns


def owner(key) -> str:
    return node.node_ids[int(key) % len(node.node_ids)]


@node.on("txn")
async def transact(msg):
    result = []
    for kind, key, value in msg.body["txn"]:
        # TODO: read-only: a timestamp from lin-tso, then each owner's versions as of it.
        # Otherwise: two-phase commit, with a commit timestamp from lin-tso for the new versions.
        current = versions[str(key)][-1][1] if str(key) in versions else []
        if kind == "r":
            result.append(["r", key, list(current) or None])
        else:
            versions.setdefault(str(key), []).append([0, current + [value]])
            result.append(["append", key, value])
    return {"type": "txn_ok", "txn": result}


if __name__ == "__main__":
    node.run()
