"""Mistake: locks each key only around its own read or write (not two-phase).

No deadlocks, since no transaction holds two locks, but other transactions run
between its operations: it reads one key before and another after someone
else's transaction.
"""

import asyncio

from distlab import Node, RPCError

node = Node()
FREE = "free"
serial = 0


async def kv(body: dict) -> dict:
    return (await node.rpc("lin-kv", body, timeout=1.0)).body


async def lock(key, me: str) -> None:
    attempt = 0
    while True:
        try:
            await kv({"type": "cas", "key": f"lock/{key}", "from": FREE, "to": me, "create_if_not_exists": True})
            return
        except RPCError as exc:
            if exc.code != 22:
                raise
        attempt += 1
        await asyncio.sleep(node.random.uniform(0, min(0.05, 0.001 * 2**attempt)))


async def unlock(key, me: str) -> None:
    await kv({"type": "cas", "key": f"lock/{key}", "from": me, "to": FREE})


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
    result = []
    for kind, key, value in msg.body["txn"]:
        await lock(key, me)  # one key at a time: never two locks held, so no deadlock
        try:
            if kind == "r":
                result.append(["r", key, await read(key)])
            else:
                await kv({"type": "write", "key": f"k/{key}", "value": value})
                result.append([kind, key, value])
        finally:
            await unlock(key, me)
    return {"type": "txn_ok", "txn": result}


if __name__ == "__main__":
    node.run()
