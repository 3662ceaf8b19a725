"""Identifier: dense ids from one shared counter in lin-kv. Fill in the TODO, then `distlab check`."""

from distlab import Node, RPCError

node = Node()
KEY = "next"


async def kv(body):
    return (await node.rpc("lin-kv", body, timeout=1.0)).body


@node.on("generate")
async def generate(msg):
    try:
        seen = (await kv({"type": "read", "key": KEY}))["value"]
    except RPCError as exc:
        if exc.code != 20:
            raise
        seen = 0
    # TODO: another node may read the same value right now: claim `seen` atomically
    # with a cas from seen to seen + 1, and try again (error code 22) if you lose.
    await kv({"type": "write", "key": KEY, "value": seen + 1})
    return {"type": "generate_ok", "id": seen}


if __name__ == "__main__":
    node.run()
