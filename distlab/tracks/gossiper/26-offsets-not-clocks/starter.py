"""Pull-based broadcast under clock skew. Fill in the TODOs, then run `distlab check`."""

from distlab import Node, RPCError

node = Node()
messages: set[int] = set()
log: list[int] = []  # messages clients gave this node, in order


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
    # TODO: reply with the entries of `log` the asker has not seen yet (how does it say which?)
    return {"type": "pull_ok", "messages": []}


async def pull_from(peer):
    try:
        reply = await node.rpc(peer, {"type": "pull"}, timeout=1.0)  # TODO: say where to start
        messages.update(reply.body["messages"])
    except RPCError:
        pass


def round_():
    for peer in node.node_ids:
        if peer != node.id:
            node.spawn(pull_from(peer))


node.every(0.5, round_)

if __name__ == "__main__":
    node.run()
