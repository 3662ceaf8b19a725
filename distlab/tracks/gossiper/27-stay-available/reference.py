"""Available under partitions: answer every client from local state, replicate in the background.

`broadcast` is acknowledged as soon as this node has the message, and `read`
returns what this node knows: neither waits for another node. Replication to
peers is a separate loop that resends until each peer acknowledges, so a
partition delays it and never blocks a client.
"""

from distlab import Node, RPCError

node = Node()
messages: set[int] = set()
own: list[int] = []  # messages clients gave this node, in arrival order
acked: dict[str, int] = {}  # peer -> how many of `own` it has acknowledged
in_flight: set[str] = set()  # peers with a batch on the wire


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


@node.on("broadcast")
def broadcast(msg):
    message = msg.body["message"]
    if message not in messages:
        messages.add(message)
        own.append(message)
    return {"type": "broadcast_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


@node.on("gossip")
def gossip(msg):
    messages.update(msg.body["messages"])
    return {"type": "gossip_ok"}


async def send_batch(peer: str, start: int, end: int) -> None:
    in_flight.add(peer)
    try:
        await node.rpc(peer, {"type": "gossip", "messages": own[start:end]}, timeout=1.0)
        acked[peer] = max(acked.get(peer, 0), end)
    except RPCError:
        pass  # cut off by a partition: the next flush tries again
    finally:
        in_flight.discard(peer)


def flush() -> None:
    end = len(own)
    for peer in node.node_ids:
        if peer != node.id and peer not in in_flight and acked.get(peer, 0) < end:
            node.spawn(send_batch(peer, acked.get(peer, 0), end))


node.every(0.5, flush)

if __name__ == "__main__":
    node.run()
