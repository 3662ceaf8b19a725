"""Strictly serializable transactions by a sequencer: one node runs them all, one at a time.

Every node forwards each transaction to the first node, which holds the whole
database in memory and runs transactions to completion one by one, in the order
they arrive. No locks, no compare-and-set, no retries: the order of arrival is
the serial order, and since a transaction runs between its request and its
reply, that order also respects real time. The price is one node's throughput
and availability.
"""

from distlab import Node

node = Node()
data: dict[str, list] = {}


def leader() -> str:
    return node.node_ids[0]


def run(txn: list) -> list:
    """The transaction against `data`, whole: the handler never awaits in between."""
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
    if node.id == leader():
        return {"type": "txn_ok", "txn": run(msg.body["txn"])}
    reply = await node.rpc(leader(), {"type": "txn", "txn": msg.body["txn"]}, timeout=1.0)
    return {"type": "txn_ok", "txn": reply.body["txn"]}


if __name__ == "__main__":
    node.run()
