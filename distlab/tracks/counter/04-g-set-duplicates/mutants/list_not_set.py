"""Mistake: the delta sync of the reference, but elements kept in a list.

Retries make delivery at-least-once, so an element resent after a lost ack, a
duplicated message or a client's repeated add is appended again and read twice.
"""

from distlab import Node, RPCError

node = Node()
elements: list[int] = []
log: list[int] = []  # elements in the order this node first learnt them
acked: dict[str, int] = {}  # peer -> prefix of `log` it has acknowledged
in_flight: set[str] = set()


def learn(values: list[int], relay: bool) -> None:
    for value in values:
        elements.append(value)
        if relay:  # only what clients gave this node is shipped (peers ship their own)
            log.append(value)


@node.on("add")
def add(msg):
    learn([msg.body["element"]], relay=True)
    return {"type": "add_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": list(elements)}


@node.on("delta")
def delta(msg):
    learn(msg.body["elements"], relay=False)
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
