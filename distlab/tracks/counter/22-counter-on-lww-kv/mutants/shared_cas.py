"""Mistake: one shared key, updated by read and compare-and-set, retried on conflict.

Correct on lin-kv. On lww-kv two compare-and-sets can succeed on two replicas,
and the merge keeps only one: an acknowledged add is lost.
"""

from distlab import Node, RPCError

node = Node()


async def kv(body: dict) -> dict:
    return (await node.rpc("lww-kv", body, timeout=1.0)).body


async def current() -> int:
    try:
        return (await kv({"type": "read", "key": "counter"}))["value"]
    except RPCError as exc:
        if exc.code == 20:
            return 0
        raise


@node.on("add")
async def add(msg):
    while True:
        value = await current()
        try:
            await kv({"type": "cas", "key": "counter", "from": value, "to": value + msg.body["delta"],
                      "create_if_not_exists": True})
            return {"type": "add_ok"}
        except RPCError as exc:
            if exc.code != 22:
                raise


@node.on("read")
async def read(msg):
    return {"type": "read_ok", "value": await current()}


if __name__ == "__main__":
    node.run()
