"""Messenger 9, reference: replicate state, not operations, in one periodic message per peer.

Each node owns one entry of the counter, its own total; every 100 ms in which
its table changed (and once a second regardless, to repair losses) it sends the
whole table to every peer. Receivers merge entry by entry with max, which
a lost, late or duplicated message cannot break, so nothing is acknowledged or
retried: the next round repairs any loss. The cost no longer grows with the
request rate.
"""

from distlab import Node

node = Node()
totals: dict[str, int] = {}
REPAIR_ROUNDS = 10  # a round without changes still sends every 10th time
changed = False
quiet_rounds = 0


@node.on("add")
def add(msg):
    global changed
    changed = True
    totals[node.id] = totals.get(node.id, 0) + msg.body["delta"]
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
