"""Messenger 7: a pn-counter that stays exact under loss, duplication and partitions."""

import asyncio
from collections import OrderedDict

from distlab import Node, RPCError

node = Node()
value = 0
sequence = 0
applied: OrderedDict[str, None] = OrderedDict()


async def deliver(peer, body):
    # TODO: five attempts are not enough when a partition lasts seconds. Retry
    # until acknowledged, and cap the backoff so that delivery resumes soon
    # after the partition heals.
    for attempt in range(5):
        try:
            await node.rpc(peer, body, timeout=0.2)
            return
        except RPCError:
            pass
        await asyncio.sleep(node.random.uniform(0, 0.02 * 2**attempt))


@node.on("add")
def add(msg):
    global value, sequence
    delta = msg.body["delta"]
    value += delta
    sequence += 1
    body = {"type": "inc", "key": f"{node.id}-{sequence}", "delta": delta}
    for peer in node.node_ids:
        if peer != node.id:
            node.spawn(deliver(peer, body))
    return {"type": "add_ok"}


@node.on("inc")
def inc(msg):
    global value
    key = msg.body["key"]
    if key not in applied:  # TODO: bound this memory (an LRU)
        applied[key] = None
        value += msg.body["delta"]
    return {"type": "inc_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": value}


if __name__ == "__main__":
    node.run()
