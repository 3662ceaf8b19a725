"""Timekeeper 10: causal broadcast that survives crashes (the last task's reference, to start from).

TODO: everything below lives in memory; node.storage (a dict, .sync() to make
writes durable) is what a restarted node gets back.
"""

from distlab import Node, RPCError

node = Node()
delivered = []  # in delivery order
have = set()
waiting = {}  # message -> its deps, not delivered yet
unacked = {}  # peer -> {message: deps} not yet acknowledged by it
in_flight = set()


def accept(message, deps):
    """Take a message in once; deliver whatever is now ready. True if it was new."""
    if message in have or message in waiting:
        return False
    waiting[message] = deps
    ready = True
    while ready:
        ready = [m for m, d in waiting.items() if all(x in have for x in d)]
        for m in ready:
            del waiting[m]
            have.add(m)
            delivered.append(m)
    return True


@node.on("broadcast")
def broadcast(msg):
    message, deps = msg.body["message"], msg.body.get("deps", [])
    if accept(message, deps):
        for peer in node.node_ids:
            if peer != node.id:
                unacked.setdefault(peer, {})[message] = deps
    return {"type": "broadcast_ok"}


@node.on("forward")
def forward(msg):
    for message, deps in msg.body["messages"]:
        accept(message, deps)
    return {"type": "forward_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": list(delivered)}


async def send(peer):
    batch = dict(unacked[peer])
    in_flight.add(peer)
    try:
        await node.rpc(peer, {"type": "forward", "messages": [[m, d] for m, d in batch.items()]}, timeout=1.0)
        for m in batch:
            unacked[peer].pop(m, None)
    except RPCError:
        pass  # resent on the next round
    finally:
        in_flight.discard(peer)


def flush():
    for peer, pending in unacked.items():
        if pending and peer not in in_flight:
            node.spawn(send(peer))


node.every(0.25, flush)

if __name__ == "__main__":
    node.run()
