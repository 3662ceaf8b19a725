"""Serializable by one lock: fill in the TODOs, then run `distlab check`."""

import asyncio  # noqa: F401 (asyncio.sleep: back off before trying the lock again)

from distlab import Node, RPCError

node = Node()
LOCK, FREE = "lock", "free"


async def kv(body: dict) -> dict:
    """Call lin-kv; raises RPCError (code 20: no such key, 22: cas mismatch)."""
    return (await node.rpc("lin-kv", body, timeout=1.0)).body


async def read(key) -> object:
    try:
        return (await kv({"type": "read", "key": f"k/{key}"}))["value"]
    except RPCError as exc:
        if exc.code == 20:
            return None
        raise


@node.on("txn")
async def transact(msg):
    # TODO: take the lock: cas LOCK from FREE to a name unique to this transaction
    # (create_if_not_exists: the first taker creates it), retrying after a short random sleep
    result = []
    for kind, key, value in msg.body["txn"]:
        if kind == "r":
            result.append(["r", key, await read(key)])
        else:
            await kv({"type": "write", "key": f"k/{key}", "value": value})
            result.append([kind, key, value])
    # TODO: release the lock (only if you still hold it), even when something above failed
    return {"type": "txn_ok", "txn": result}


if __name__ == "__main__":
    node.run()
