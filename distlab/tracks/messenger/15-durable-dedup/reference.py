"""Messenger 15, reference: exactly-once effects across crashes.

Everything the dedup depends on is as durable as the state it protects: the
value, the keys already applied, the sequence number that makes keys, and the
outbox of deltas not yet acknowledged by each peer. All are synced before the
reply that depends on them; a restarted node reloads them and resumes its
deliveries.
"""

import asyncio

from distlab import Node, RPCError

node = Node()
value = 0
sequence = 0


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
