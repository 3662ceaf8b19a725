"""Incremental pull by log offset: ask each peer for its messages from the first one not yet seen.

Each node appends the messages clients give it to its own log. Twice a second it
asks every peer for that peer's log from the offset it has reached. An offset
counts entries, so it cannot jump back the way a clock can.
"""

from distlab import Node, RPCError

node = Node()
messages: set[int] = set()
log: list[int] = []  # messages clients gave this node, in order
have: dict[str, int] = {}  # peer -> how many entries of its log this node has
in_flight: set[str] = set()


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


@node.on("broadcast")
def broadcast(msg):
    message = msg.body["message"]
    if message not in messages:
        messages.add(message)
        log.append(message)
    return {"type": "broadcast_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


@node.on("pull")
def pull(msg):
    start = msg.body["from"]
    return {"type": "pull_ok", "messages": log[start:], "next": len(log)}


async def pull_from(peer: str) -> None:
    in_flight.add(peer)
    try:
        reply = await node.rpc(peer, {"type": "pull", "from": have.get(peer, 0)}, timeout=1.0)
        messages.update(reply.body["messages"])
        have[peer] = reply.body["next"]
    except RPCError:
        pass  # next round asks again from the same offset
    finally:
        in_flight.discard(peer)


def round_() -> None:
    for peer in node.node_ids:
        if peer != node.id and peer not in in_flight:
            node.spawn(pull_from(peer))


node.every(0.5, round_)

if __name__ == "__main__":
    node.run()
