"""A last-writer-wins register stamped by a Lamport clock, ties broken by node id.

Each write is stamped (counter, node id) where counter is one more than anything
this node has seen; a merge keeps the higher stamp and moves the clock up to it. So
a write made after seeing another is always stamped higher and wins, concurrent
writes are ordered by their stamps, and two writes can never tie: every replica
that has seen the same writes holds the same one. Every 250 ms each node sends its
register to every peer.
"""

from distlab import Node

node = Node()
ROUND = 0.25
clock = 0
stamp: list = [0, ""]  # [counter, node id] of the value held
value = None


def keep(other_stamp: list, other_value) -> None:
    global clock, stamp, value
    clock = max(clock, other_stamp[0])
    if tuple(other_stamp) > tuple(stamp):
        stamp, value = list(other_stamp), other_value


@node.on("write")
def write(msg):
    global clock
    clock += 1
    keep([clock, node.id], msg.body["value"])
    return {"type": "write_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": value}


@node.on("merge")
def merge(msg):
    keep(msg.body["stamp"], msg.body["value"])


def gossip_round() -> None:
    if stamp[0] == 0:
        return
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "merge", "stamp": stamp, "value": value})


node.every(ROUND, gossip_round)

if __name__ == "__main__":
    node.run()
