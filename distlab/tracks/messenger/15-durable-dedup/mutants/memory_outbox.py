"""Mutant: value and applied keys durable, but the outbox in memory: a node killed with
deltas its peers have not acknowledged never sends them."""

import asyncio

from distlab import Node, RPCError

node = Node()
value = 0
sequence = 0


async def deliver(peer: str, key: str, delta: int) -> None:
    """Send until acknowledged."""
    body = {"type": "inc", "key": key, "delta": delta}
    attempt = 0
    while True:
        try:
            await node.rpc(peer, body, timeout=0.2)
            break
        except RPCError:
            pass
        await asyncio.sleep(node.random.uniform(0, min(1.0, 0.02 * 2**attempt)))
        attempt += 1


@node.on("init")
def start(msg):
    global value, sequence
    value = node.storage.get("value", 0)
    sequence = node.storage.get("sequence", 0)


@node.on("add")
def add(msg):
    global value, sequence
    delta = msg.body["delta"]
    sequence += 1
    value += delta
    key = f"{node.id}-{sequence}"
    peers = [p for p in node.node_ids if p != node.id]
    node.storage["sequence"] = sequence
    node.storage["value"] = value
    node.storage.sync()
    for peer in peers:
        node.spawn(deliver(peer, key, delta))
    return {"type": "add_ok"}


@node.on("inc")
def inc(msg):
    global value
    key = msg.body["key"]
    if f"in:{key}" not in node.storage:
        value += msg.body["delta"]
        node.storage[f"in:{key}"] = 1
        node.storage["value"] = value
        node.storage.sync()
    return {"type": "inc_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": value}


if __name__ == "__main__":
    node.run()
