"""Timekeeper 9: causal broadcast under partitions (the last task's reference, to start from)."""

from distlab import Node

node = Node()
delivered = []  # in delivery order
have = set()  # delivered
waiting = {}  # message -> its deps, not delivered yet


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
                # TODO: a partition drops this; nothing sends it again
                node.send(peer, {"type": "forward", "message": message, "deps": deps})
    return {"type": "broadcast_ok"}


@node.on("forward")
def forward(msg):
    accept(msg.body["message"], msg.body["deps"])


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": list(delivered)}


if __name__ == "__main__":
    node.run()
