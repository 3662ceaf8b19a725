"""Messenger 11: a state-based G-counter whose acknowledged adds survive kills."""

from distlab import Node

node = Node()
totals: dict[str, int] = {}
REPAIR_ROUNDS = 10  # a round without changes still sends every 10th time
changed = False
quiet_rounds = 0


@node.on("init")
def start(msg):
    # TODO: runs after every restart: load the table from node.storage.
    pass


@node.on("add")
def add(msg):
    global changed
    changed = True
    totals[node.id] = totals.get(node.id, 0) + msg.body["delta"]
    # TODO: make this durable before acknowledging it.
    return {"type": "add_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sum(totals.values())}


@node.on("state")
def merge(msg):
    global changed
    for origin, total in msg.body["totals"].items():
        if total > totals.get(origin, 0):
            totals[origin] = total
            changed = True


def gossip():
    global changed, quiet_rounds
    quiet_rounds += 1
    if not totals or (not changed and quiet_rounds < REPAIR_ROUNDS):
        return
    changed, quiet_rounds = False, 0
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "state", "totals": totals})


node.every(0.1, gossip)

if __name__ == "__main__":
    node.run()
