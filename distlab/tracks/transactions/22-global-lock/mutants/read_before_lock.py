"""Mistake: reads the transaction's keys first, then takes the lock only for the writes.

Reads without the lock see a state another transaction is about to change; the
writes then overwrite that change as if it never happened.
"""

import asyncio

from distlab import Node, RPCError

node = Node()
LOCK, FREE = "lock", "free"
serial = 0


async def kv(body: dict) -> dict:
    return (await node.rpc("lin-kv", body, timeout=1.0)).body


async def acquire(me: str) -> None:
    attempt = 0
    while True:
        try:
            await kv({"type": "cas", "key": LOCK, "from": FREE, "to": me, "create_if_not_exists": True})
            return
        except RPCError as exc:
            if exc.code != 22:
                raise
        attempt += 1
        await asyncio.sleep(node.random.uniform(0, min(0.05, 0.001 * 2**attempt)))


async def read(key) -> object:
    try:
        return (await kv({"type": "read", "key": f"k/{key}"}))["value"]
    except RPCError as exc:
        if exc.code == 20:
            return None
        raise


@node.on("txn")
async def transact(msg):
    global serial
    serial += 1
    me = f"{node.id}-{serial}"
    seen = {}
    for kind, key, _ in msg.body["txn"]:
        if kind == "r" and key not in seen:
            seen[key] = await read(key)  # no lock held yet: only the writes need it, surely
    await acquire(me)
    try:
        result = []
        for kind, key, value in msg.body["txn"]:
            if kind == "r":
                result.append(["r", key, seen[key]])
            else:
                await kv({"type": "write", "key": f"k/{key}", "value": value})
                seen[key] = value
                result.append([kind, key, value])
        return {"type": "txn_ok", "txn": result}
    finally:
        await kv({"type": "cas", "key": LOCK, "from": me, "to": FREE})


if __name__ == "__main__":
    node.run()
