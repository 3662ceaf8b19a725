"""Mutant: the task-9 counter as it was: its table in memory only, lost with the process."""

from distlab import Node

node = Node()
REPAIR_ROUNDS = 10
totals: dict[str, int] = {}
changed = False
quiet_rounds = 0


def persist() -> None:
    pass


@node.on("add")
def add(msg):
    global changed
    totals[node.id] = totals.get(node.id, 0) + msg.body["delta"]
    persist()
    changed = True
    return {"type": "add_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sum(totals.values())}


@node.on("state")
def merge(msg):
    global changed
    news = False
    for origin, total in msg.body["totals"].items():
        if total > totals.get(origin, 0):
            totals[origin] = total
            news = True
    if news:
        persist()
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
