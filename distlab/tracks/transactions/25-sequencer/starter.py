"""A sequencer: fill in the TODO, then run `distlab check`."""

from distlab import Node

node = Node()
data: dict[str, list] = {}


def leader() -> str:
    return node.node_ids[0]


def run(txn: list) -> list:
    """The transaction against `data`, whole: nothing awaits in between."""
    result = []
    for kind, key, value in txn:
        if kind == "r":
            current = data.get(str(key))
            result.append(["r", key, list(current) if current is not None else None])
        else:
            data.setdefault(str(key), []).append(value)
            result.append(["append", key, value])
    return result


@node.on("txn")
async def transact(msg):
    # TODO: only the leader may run transactions; the others must pass them on
    return {"type": "txn_ok", "txn": run(msg.body["txn"])}


if __name__ == "__main__":
    node.run()
