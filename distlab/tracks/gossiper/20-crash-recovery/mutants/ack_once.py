"""Mistake: resends each message until a peer acknowledges it, then never again.

Its own messages are even synced to storage. But a peer that acknowledged and
then crashed has forgotten them, and nobody sends them a second time.
"""

from distlab import Node, RPCError

node = Node()
messages: set[int] = set()
own: list[int] = []
acked: dict[str, int] = {}  # peer -> how many of `own` it has acknowledged
in_flight: set[str] = set()


@node.on("init")
def start(msg):
    own.extend(node.storage.get("own", []))
    messages.update(own)


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


@node.on("broadcast")
def broadcast(msg):
    message = msg.body["message"]
    if message not in messages:
        messages.add(message)
        own.append(message)
        node.storage["own"] = list(own)
        node.storage.sync()
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
        pass
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
