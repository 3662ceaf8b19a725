"""Messenger 15: exactly-once effects across crashes (the task-6 counter, now with kills)."""

import asyncio
from collections import OrderedDict

from distlab import Node, RPCError

node = Node()
CAPACITY = 100_000
value = 0
sequence = 0
applied: OrderedDict[str, None] = OrderedDict()


async def deliver(peer: str, body: dict) -> None:
    """Send until acknowledged, backing off (full jitter, capped) between attempts."""
    attempt = 0
    while True:
        try:
            await node.rpc(peer, body, timeout=0.2)
            return
        except RPCError:
            pass
        await asyncio.sleep(node.random.uniform(0, min(1.0, 0.02 * 2**attempt)))
        attempt += 1


@node.on("init")
def start(msg):
    # TODO: runs after every restart. Reload what must survive a crash (the value,
    # the sequence, the keys applied, the deltas not yet acknowledged) and resume
    # delivering those deltas.
    pass


@node.on("add")
def add(msg):
    global value, sequence
    delta = msg.body["delta"]
    value += delta
    sequence += 1
    body = {"type": "inc", "key": f"{node.id}-{sequence}", "delta": delta}
    # TODO: sync everything this add changed before acknowledging it.
    for peer in node.node_ids:
        if peer != node.id:
            node.spawn(deliver(peer, body))
    return {"type": "add_ok"}


@node.on("inc")
def inc(msg):
    global value
    key = msg.body["key"]
    # TODO: the applied keys and the value must survive a crash.
    if key in applied:
        applied.move_to_end(key)
    else:
        applied[key] = None
        if len(applied) > CAPACITY:
            applied.popitem(last=False)
        value += msg.body["delta"]
    return {"type": "inc_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": value}


if __name__ == "__main__":
    node.run()
