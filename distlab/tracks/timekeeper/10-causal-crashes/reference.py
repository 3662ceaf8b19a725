"""Timekeeper 10, reference: causal broadcast whose delivered log survives crashes.

Every message taken in (delivered, or waiting for its deps) is written to storage
and synced before the node acknowledges it, to a client or to a peer: an
acknowledgement is a promise the node must keep after a crash. After a restart the
node reloads both, and offers everything it has to every peer again, since what it
still owed them was only in memory.
"""

from distlab import Node, RPCError

node = Node()
delivered = []  # in delivery order
have = set()
waiting = {}  # message -> its deps, not delivered yet
unacked = {}  # peer -> {message: deps} not yet acknowledged by it
in_flight = set()


def save():
    node.storage["delivered"] = list(delivered)
    node.storage["waiting"] = [[m, d] for m, d in waiting.items()]
    node.storage.sync()


@node.on("init")
def start(msg):
    for m in node.storage.get("delivered", []):
        have.add(m)
        delivered.append(m)
    for m, d in node.storage.get("waiting", []):
        waiting[m] = d
    everything = {m: [] for m in delivered} | waiting  # deps of delivered ones are delivered here: [] will do
    for peer in node.node_ids:
        if peer != node.id:
            unacked[peer] = dict(everything)


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
        save()
        for peer in node.node_ids:
            if peer != node.id:
                unacked.setdefault(peer, {})[message] = deps
    return {"type": "broadcast_ok"}


@node.on("forward")
def forward(msg):
    new = [accept(message, deps) for message, deps in msg.body["messages"]]
    if any(new):
        save()
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
