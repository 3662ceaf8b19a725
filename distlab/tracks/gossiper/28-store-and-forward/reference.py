"""Store and forward on a lossy line: every hop keeps a message until its next hop acknowledges.

Each node holds, per neighbour, the messages that neighbour has not acknowledged
and does not already have (it never gets back what it sent). A timer resends
them in one batch per neighbour, so each hop repairs its own losses, and a
message dropped halfway is resent from halfway.
"""

from distlab import Node, RPCError

node = Node()
messages: set[int] = set()
neighbours: list[str] = []
pending: dict[str, set[int]] = {}  # neighbour -> messages it still needs from this node
in_flight: set[str] = set()


@node.on("topology")
def topology(msg):
    neighbours[:] = msg.body["topology"].get(node.id, [])
    for peer in neighbours:
        pending.setdefault(peer, set())
    return {"type": "topology_ok"}


def learn(new: list[int], came_from: str | None) -> None:
    for message in new:
        if message not in messages:
            messages.add(message)
            for peer in neighbours:
                if peer != came_from:
                    pending[peer].add(message)


@node.on("broadcast")
def broadcast(msg):
    learn([msg.body["message"]], None)
    return {"type": "broadcast_ok"}


@node.on("forward")
def forward(msg):
    learn(msg.body["messages"], msg.src)
    if msg.src in pending:
        pending[msg.src].difference_update(msg.body["messages"])  # it has them
    return {"type": "forward_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


async def send_batch(peer: str, batch: list[int]) -> None:
    in_flight.add(peer)
    try:
        await node.rpc(peer, {"type": "forward", "messages": batch}, timeout=0.5)
        pending[peer].difference_update(batch)
    except RPCError:
        pass  # still pending: the next tick resends
    finally:
        in_flight.discard(peer)


def flush() -> None:
    for peer in neighbours:
        if pending[peer] and peer not in in_flight:
            node.spawn(send_batch(peer, sorted(pending[peer])))


node.every(0.1, flush)

if __name__ == "__main__":
    node.run()
