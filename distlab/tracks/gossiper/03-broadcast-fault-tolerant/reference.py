"""Fault-tolerant broadcast (Gossip Glomers 3c): resend until each peer acknowledges.

Every node talks to every other directly (the suggested topology is ignored:
one hop is the fastest path). A message a client gave this node is batched and
sent to each peer every 500 ms until that peer acknowledges it; messages learnt
from peers are not forwarded again. A partition only delays delivery: unacked
batches are resent after it heals.
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


async def send_batch(peer, start, end):
    in_flight.add(peer)
    try:
        await node.rpc(peer, {"type": "gossip", "messages": own[start:end]}, timeout=1.0)
        acked[peer] = max(acked.get(peer, 0), end)
    except RPCError:
        pass  # the next flush resends
    finally:
        in_flight.discard(peer)


def flush():
    end = len(own)
    for peer in node.node_ids:
        if peer != node.id and peer not in in_flight and acked.get(peer, 0) < end:
            node.spawn(send_batch(peer, acked.get(peer, 0), end))


node.every(0.5, flush)

if __name__ == "__main__":
    node.run()
