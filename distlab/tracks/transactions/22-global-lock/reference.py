"""Serializable transactions by one lock: take it, run the transaction key by key, release.

Each key lives under its own lin-kv key, so a transaction touches only what it
needs instead of copying the whole database. Isolation comes from a lock key in
lin-kv, taken by compare-and-set: nothing reads or writes a data key without
holding it, so transactions run one at a time, in the order they took the
lock, which is also real-time order (strict serializable). A node that waits
backs off for a random moment, so waiters do not retry in lockstep.
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
    await acquire(me)
    try:
        result = []
        for kind, key, value in msg.body["txn"]:
            if kind == "r":
                result.append(["r", key, await read(key)])
            else:
                await kv({"type": "write", "key": f"k/{key}", "value": value})
                result.append([kind, key, value])
        return {"type": "txn_ok", "txn": result}
    finally:
        await kv({"type": "cas", "key": LOCK, "from": me, "to": FREE})


if __name__ == "__main__":
    node.run()
