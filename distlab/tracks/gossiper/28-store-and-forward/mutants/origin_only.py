"""Mistake: only the node a client gave the message to retries; relays pass it on once.

The first hop is repaired, but a copy lost between two relays is lost for
everyone beyond them.
"""

from distlab import Node, RPCError

node = Node()
messages: set[int] = set()
neighbours: list[str] = []
pending: dict[str, set[int]] = {}  # only this node's own (client-given) messages
in_flight: set[str] = set()


@node.on("topology")
def topology(msg):
    neighbours[:] = msg.body["topology"].get(node.id, [])
    for peer in neighbours:
        pending.setdefault(peer, set())
    return {"type": "topology_ok"}


@node.on("broadcast")
def broadcast(msg):
    message = msg.body["message"]
    if message not in messages:
        messages.add(message)
        for peer in neighbours:
            pending[peer].add(message)
    return {"type": "broadcast_ok"}


@node.on("forward")
def forward(msg):
    for message in msg.body["messages"]:
        if message not in messages:
            messages.add(message)
            for peer in neighbours:
                if peer != msg.src:
                    node.send(peer, {"type": "forward", "messages": [message]})  # once, no retry
    return {"type": "forward_ok"} if "msg_id" in msg.body else None


@node.on("forward_ok")
def forward_ok(msg):
    return None


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


async def send_batch(peer: str, batch: list[int]) -> None:
    in_flight.add(peer)
    try:
        await node.rpc(peer, {"type": "forward", "messages": batch}, timeout=0.5)
        pending[peer].difference_update(batch)
    except RPCError:
        pass
    finally:
        in_flight.discard(peer)


def flush() -> None:
    for peer in neighbours:
        if pending[peer] and peer not in in_flight:
            node.spawn(send_batch(peer, sorted(pending[peer])))


node.every(0.1, flush)

if __name__ == "__main__":
    node.run()
