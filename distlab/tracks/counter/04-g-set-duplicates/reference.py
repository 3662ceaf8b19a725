"""A G-set synced by deltas: send each peer only what it has not acknowledged.

Shipping whole states gets expensive as the set grows; shipping deltas keeps the
cost proportional to what changed. Because the merge is a set union, a delta that
arrives twice (the network duplicates it, or it is resent after a lost ack), or an
element that a client adds again, changes nothing.
"""

from distlab import Node, RPCError

node = Node()
elements: set[int] = set()
log: list[int] = []  # elements in the order this node first learnt them
acked: dict[str, int] = {}  # peer -> prefix of `log` it has acknowledged
in_flight: set[str] = set()


def learn(values: list[int]) -> None:
    for value in values:
        if value not in elements:
            elements.add(value)
            log.append(value)


@node.on("add")
def add(msg):
    learn([msg.body["element"]])
    return {"type": "add_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sorted(elements)}


@node.on("delta")
def delta(msg):
    learn(msg.body["elements"])
    return {"type": "delta_ok"}


async def ship(peer: str, start: int, end: int) -> None:
    in_flight.add(peer)
    try:
        await node.rpc(peer, {"type": "delta", "elements": log[start:end]}, timeout=1.0)
        acked[peer] = max(acked.get(peer, 0), end)
    except RPCError:
        pass  # resent by a later flush
    finally:
        in_flight.discard(peer)


def flush() -> None:
    end = len(log)
    for peer in node.node_ids:
        if peer != node.id and peer not in in_flight and acked.get(peer, 0) < end:
            node.spawn(ship(peer, acked.get(peer, 0), end))


node.every(0.2, flush)

if __name__ == "__main__":
    node.run()
