"""Mistake: locks the keys in the order the transaction uses them.

Transaction A = [w 1, w 2] holds key 1 and waits for key 2, B = [w 2, w 1] holds
key 2 and waits for key 1: both wait for ever, and so does every later
transaction on those keys.
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


def lock_order(txn: list) -> list:
    """Every key the transaction touches, once each, in the order the transaction names them."""
    return list(dict.fromkeys(key for _, key, _ in txn))


@node.on("txn")
async def transact(msg):
    global serial
    serial += 1
    me = f"{node.id}-{serial}"
    held = []
    try:
        for key in lock_order(msg.body["txn"]):
            await lock(key, me)
            held.append(key)
        result = []
        for kind, key, value in msg.body["txn"]:
            if kind == "r":
                result.append(["r", key, await read(key)])
            else:
                await kv({"type": "write", "key": f"k/{key}", "value": value})
                result.append([kind, key, value])
        return {"type": "txn_ok", "txn": result}
    finally:
        for key in held:
            await unlock(key, me)


if __name__ == "__main__":
    node.run()
