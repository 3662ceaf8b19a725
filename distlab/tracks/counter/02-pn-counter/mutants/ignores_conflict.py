"""Mistake: one shared key updated with compare-and-set, but a lost race counts as done.

When another node changed the key between the read and the cas, seq-kv answers
error 22 (precondition failed); this node acknowledges the add anyway.
"""

from distlab import Node, RPCError

node = Node()


async def kv(body: dict) -> dict:
    return (await node.rpc("seq-kv", body, timeout=1.0)).body


async def current() -> int:
    try:
        return (await kv({"type": "read", "key": "counter"}))["value"]
    except RPCError as exc:
        if exc.code == 20:
            return 0
        raise


@node.on("add")
async def add(msg):
    value = await current()
    try:
        await kv({"type": "cas", "key": "counter", "from": value, "to": value + msg.body["delta"],
                  "create_if_not_exists": True})
    except RPCError as exc:
        if exc.code != 22:
            raise
        # the mistake: somebody else won the race, and this add is silently dropped
    return {"type": "add_ok"}


@node.on("read")
async def read(msg):
    return {"type": "read_ok", "value": await current()}


if __name__ == "__main__":
    node.run()
