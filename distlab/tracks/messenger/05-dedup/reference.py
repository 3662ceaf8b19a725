"""Messenger 5, reference: a counter replicated by delta messages, each applied once.

The network may deliver a message twice. A delta carries the sender's msg_id,
so (src, msg_id) names it; the last DEDUP_CAPACITY names seen are kept in an
LRU and a repeat is acknowledged without being applied again.
"""

from collections import OrderedDict

from distlab import Node

node = Node()
DEDUP_CAPACITY = 100_000
value = 0
seen: OrderedDict[tuple[str, int], None] = OrderedDict()


@node.on("add")
def add(msg):
    global value
    delta = msg.body["delta"]
    value += delta
    for peer in node.node_ids:
        if peer != node.id:
            node.spawn(node.rpc(peer, {"type": "inc", "delta": delta}, timeout=None))
    return {"type": "add_ok"}


@node.on("inc")
def inc(msg):
    global value
    key = (msg.src, msg.body["msg_id"])
    if key in seen:
        seen.move_to_end(key)
    else:
        seen[key] = None
        if len(seen) > DEDUP_CAPACITY:
            seen.popitem(last=False)
        value += msg.body["delta"]
    return {"type": "inc_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": value}


if __name__ == "__main__":
    node.run()
