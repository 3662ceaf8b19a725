"""Mistake: hub batching with 300 ms batches: cheap, but two waits per hop blow the latency budget."""

from distlab import Node, RPCError

node = Node()
INTERVAL = 0.3  # the mistake: batches wait too long for the 600 ms budget
messages: set[int] = set()
outbox: list[int] = []  # messages this node must pass on, in arrival order
acked: dict[str, int] = {}  # peer -> how much of `outbox` it has acknowledged
in_flight: set[str] = set()  # peers with a batch on the wire


def hub() -> str:
    return node.node_ids[0]


def peers() -> list[str]:
    if node.id == hub():
        return [p for p in node.node_ids if p != node.id]
    return [hub()]


def learn(values: list[int], relay: bool) -> None:
    for value in values:
        if value not in messages:
            messages.add(value)
            if relay:
                outbox.append(value)


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


@node.on("broadcast")
def broadcast(msg):
    learn([msg.body["message"]], relay=True)
    return {"type": "broadcast_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


@node.on("gossip")
def gossip(msg):
    learn(msg.body["messages"], relay=node.id == hub())  # only the hub passes things on
    return {"type": "gossip_ok"}


async def send_batch(peer: str, start: int, end: int) -> None:
    in_flight.add(peer)
    try:
        await node.rpc(peer, {"type": "gossip", "messages": outbox[start:end]}, timeout=1.0)
        acked[peer] = max(acked.get(peer, 0), end)
    except RPCError:
        pass  # the next flush resends
    finally:
        in_flight.discard(peer)


def flush() -> None:
    end = len(outbox)
    for peer in peers():
        if peer not in in_flight and acked.get(peer, 0) < end:
            node.spawn(send_batch(peer, acked.get(peer, 0), end))


node.every(INTERVAL, flush)

if __name__ == "__main__":
    node.run()
