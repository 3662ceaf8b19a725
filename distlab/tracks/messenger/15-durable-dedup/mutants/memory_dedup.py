"""Mutant: value and outbox durable, but the applied keys in memory: after a restart,
a retried delta that was applied before the crash is applied again."""

import asyncio

from distlab import Node, RPCError

node = Node()
value = 0
sequence = 0
applied: set[str] = set()


async def deliver(peer: str, key: str, delta: int) -> None:
    """Send until acknowledged; then drop it from the outbox (unsynced: a resend is harmless)."""
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
    del node.storage[f"out:{key}:{peer}"]


@node.on("init")
def start(msg):
    global value, sequence
    value = node.storage.get("value", 0)
    sequence = node.storage.get("sequence", 0)
    for name in node.storage.keys():
        if name.startswith("out:"):
            _, key, peer = name.split(":")
            node.spawn(deliver(peer, key, node.storage[name]))


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
    for peer in peers:
        node.storage[f"out:{key}:{peer}"] = delta
    node.storage.sync()
    for peer in peers:
        node.spawn(deliver(peer, key, delta))
    return {"type": "add_ok"}


@node.on("inc")
def inc(msg):
    global value
    key = msg.body["key"]
    if key not in applied:
        value += msg.body["delta"]
        applied.add(key)
        node.storage["value"] = value
        node.storage.sync()
    return {"type": "inc_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": value}


if __name__ == "__main__":
    node.run()
