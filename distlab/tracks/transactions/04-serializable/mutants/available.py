"""Mistake (for this task): the totally available store of transactions/read-committed, which no coordination can make serializable."""

from distlab import Node, RPCError

node = Node()
data: dict[str, object] = {}
outbox: list[list] = []  # write sets to ship, in order
acked: dict[str, int] = {}  # peer -> how many of `outbox` it has
in_flight: set[str] = set()


def apply(kind, key, value):
    if kind == "append":
        data[str(key)] = data.get(str(key), []) + [value]
    else:
        data[str(key)] = value


@node.on("txn")
def transact(msg):
    result, writes = [], []
    for kind, key, value in msg.body["txn"]:
        if kind == "r":
            result.append(["r", key, data.get(str(key))])
        else:
            apply(kind, key, value)
            writes.append([kind, key, value])
            result.append([kind, key, value])
    if writes:
        outbox.append(writes)
    return {"type": "txn_ok", "txn": result}


@node.on("replicate")
def replicate(msg):
    for writes in msg.body["units"]:
        for kind, key, value in writes:
            apply(kind, key, value)
    return {"type": "replicate_ok"}


async def ship(peer, start, end):
    in_flight.add(peer)
    try:
        await node.rpc(peer, {"type": "replicate", "units": outbox[start:end]}, timeout=1.0)
        acked[peer] = max(acked.get(peer, 0), end)
    except RPCError:
        pass
    finally:
        in_flight.discard(peer)


def flush():
    end = len(outbox)
    for peer in node.node_ids:
        if peer != node.id and peer not in in_flight and acked.get(peer, 0) < end:
            node.spawn(ship(peer, acked.get(peer, 0), end))


node.every(0.2, flush)

if __name__ == "__main__":
    node.run()
