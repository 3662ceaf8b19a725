"""Mistake: a peer that misses three acknowledgements in a row is declared dead for good.

A paused peer misses them all; when it resumes, nobody sends it anything new.
"""

from distlab import Node, RPCError

node = Node()
MAX_MISSES = 3
messages: set[int] = set()
own: list[int] = []
acked: dict[str, int] = {}
misses: dict[str, int] = {}
dead: set[str] = set()
in_flight: set[str] = set()


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
        misses[peer] = 0
    except RPCError:
        misses[peer] = misses.get(peer, 0) + 1
        if misses[peer] >= MAX_MISSES:
            dead.add(peer)  # the mistake: silence taken as death, forever
    finally:
        in_flight.discard(peer)


def flush() -> None:
    end = len(own)
    for peer in node.node_ids:
        if peer != node.id and peer not in dead and peer not in in_flight and acked.get(peer, 0) < end:
            node.spawn(send_batch(peer, acked.get(peer, 0), end))


node.every(0.5, flush)

if __name__ == "__main__":
    node.run()
