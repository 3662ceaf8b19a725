"""Mistake: asks each peer for its messages since the newest timestamp it got from that peer.

Timestamps come from the peer's own clock. When that clock steps back, new
messages are stamped earlier than ones already fetched, and no pull asks for
them again.
"""

from distlab import Node, RPCError

node = Node()
messages: set[int] = set()
log: list[tuple[float, int]] = []  # (this node's clock when added, message)
since: dict[str, float] = {}  # peer -> newest timestamp fetched from it
in_flight: set[str] = set()


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


@node.on("broadcast")
def broadcast(msg):
    message = msg.body["message"]
    if message not in messages:
        messages.add(message)
        log.append((node.now(), message))
    return {"type": "broadcast_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


@node.on("pull")
def pull(msg):
    after = msg.body["since"]
    newer = [(ts, m) for ts, m in log if ts > after]
    return {"type": "pull_ok", "entries": newer}


async def pull_from(peer: str) -> None:
    in_flight.add(peer)
    try:
        reply = await node.rpc(peer, {"type": "pull", "since": since.get(peer, -1e18)}, timeout=1.0)
        for ts, m in reply.body["entries"]:
            messages.add(m)
            since[peer] = max(since.get(peer, -1e18), ts)
    except RPCError:
        pass
    finally:
        in_flight.discard(peer)


def round_() -> None:
    for peer in node.node_ids:
        if peer != node.id and peer not in in_flight:
            node.spawn(pull_from(peer))


node.every(0.5, round_)

if __name__ == "__main__":
    node.run()
