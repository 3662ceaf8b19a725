"""Identifier: ids from a distant lin-tso. Fill in the TODOs, then run `distlab check`."""

from distlab import Node

node = Node()
pool: list[int] = []  # timestamps fetched ahead, not handed out yet


# TODO: a background loop (node.every) that keeps the pool topped up, with enough
# ts requests in flight (node.spawn) to cover a 200 ms round trip at ~100 ids a second


@node.on("generate")
async def generate(msg):
    if pool:
        return {"type": "generate_ok", "id": pool.pop(0)}
    # TODO: this takes 200 ms, and the client waits only 150 ms
    reply = await node.rpc("lin-tso", {"type": "ts"}, timeout=1.0)
    return {"type": "generate_ok", "id": reply.body["ts"]}


if __name__ == "__main__":
    node.run()
