"""Mistake: reads "next", then writes next + 1: two nodes that read 41 both hand out 41."""

from distlab import Node, RPCError

node = Node()
KEY = "next"


async def kv(body: dict) -> dict:
    return (await node.rpc("lin-kv", body, timeout=1.0)).body


@node.on("generate")
async def generate(msg):
    try:
        seen = (await kv({"type": "read", "key": KEY}))["value"]
    except RPCError as exc:
        if exc.code != 20:
            raise
        seen = 0
    await kv({"type": "write", "key": KEY, "value": seen + 1})
    return {"type": "generate_ok", "id": seen}


if __name__ == "__main__":
    node.run()
