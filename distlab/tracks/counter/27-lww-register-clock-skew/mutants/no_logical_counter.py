"""Mistake: a hybrid clock without its logical part: a node whose clock runs behind stamps its write with the highest time it has seen, the very stamp of the write it saw, and the node id decides which wins."""

from distlab import Node

node = Node()
ROUND = 0.25
latest: list = [0.0, 0]  # the highest [wall, logical] seen here
stamp: list = [0.0, 0, ""]  # [wall, logical, node id] of the value held
value = None


def observe(wall: float, logical: int) -> None:
    if [wall, logical] > latest:
        latest[:] = [wall, logical]


def next_stamp() -> list:
    observe(max(node.now(), latest[0]), 0)
    return [latest[0], 0, node.id]


def keep(other_stamp: list, other_value) -> None:
    global stamp, value
    observe(other_stamp[0], other_stamp[1])
    if other_stamp > stamp:
        stamp, value = list(other_stamp), other_value


@node.on("write")
def write(msg):
    keep(next_stamp(), msg.body["value"])
    return {"type": "write_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": value}


@node.on("merge")
def merge(msg):
    keep(msg.body["stamp"], msg.body["value"])


def gossip_round() -> None:
    if not stamp[2]:
        return
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "merge", "stamp": stamp, "value": value})


node.every(ROUND, gossip_round)

if __name__ == "__main__":
    node.run()
