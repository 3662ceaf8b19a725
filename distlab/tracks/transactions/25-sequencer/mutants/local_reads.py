"""Mistake: followers run read-only transactions on their own copy, refreshed every 200 ms.

Fewer forwards, but a follower's copy misses what the sequencer committed since
its last refresh: a read returns a state older than an acknowledged append.
"""

from distlab import Node

node = Node()
data: dict[str, list] = {}


def leader() -> str:
    return node.node_ids[0]


def run(txn: list) -> list:
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
    txn = msg.body["txn"]
    if node.id == leader() or all(kind == "r" for kind, _, _ in txn):
        return {"type": "txn_ok", "txn": run(txn)}
    reply = await node.rpc(leader(), {"type": "txn", "txn": txn}, timeout=1.0)
    return {"type": "txn_ok", "txn": reply.body["txn"]}


@node.on("snapshot")
def snapshot(msg):
    data.clear()
    data.update(msg.body["data"])


def publish() -> None:
    if node.id == leader():
        for peer in node.node_ids[1:]:
            node.send(peer, {"type": "snapshot", "data": data})


node.every(0.2, publish)

if __name__ == "__main__":
    node.run()
