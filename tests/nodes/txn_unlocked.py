"""txn-list-append with no isolation: each micro-op is its own lin-kv call, no locks.

A read is one lin-kv read of the key's list; an append reads the list and
compare-and-sets it to list + [v] (retrying just that append if another
writer got there first). Every single call is linearizable, but a transaction
as a whole is not atomic: concurrent transactions interleave between the
calls, which Elle reports as G0, G1c, G-single and the like — provided the
network lets them overlap, which is what the simulator's default jitter is for.
"""

from distlab import Node, RPCError
from distlab.protocol import KEY_DOES_NOT_EXIST, PRECONDITION_FAILED

node = Node()


async def read(key):
    """The key's list as lin-kv holds it now ([] if never written)."""
    try:
        reply = await node.rpc("lin-kv", {"type": "read", "key": key})
    except RPCError as exc:
        if exc.code == KEY_DOES_NOT_EXIST:
            return []
        raise
    return reply.body["value"]


async def append(key, value):
    """Read, then compare-and-set to the list plus `value`; only this append is retried."""
    while True:
        current = await read(key)
        body = {"type": "cas", "key": key, "from": current, "to": current + [value], "create_if_not_exists": True}
        try:
            await node.rpc("lin-kv", body)
            return
        except RPCError as exc:
            if exc.code != PRECONDITION_FAILED:
                raise


@node.on("txn")
async def transact(msg):
    result = []
    for kind, key, value in msg.body["txn"]:
        if kind == "r":
            result.append(["r", key, await read(key)])
        else:
            await append(key, value)
            result.append([kind, key, value])
    return {"type": "txn_ok", "txn": result}


if __name__ == "__main__":
    node.run()
