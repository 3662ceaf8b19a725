"""Ids from a timestamp oracle, through message loss: ask `lin-tso`, and ask again.

`lin-tso` never hands out a number twice, so its reply is an id. A lost request
or reply only costs a number nobody uses: retrying is always safe, and a short
timeout keeps the client's wait short.
"""

from distlab import Node, RPCError

node = Node()


@node.on("generate")
async def generate(msg):
    while True:
        try:
            reply = await node.rpc("lin-tso", {"type": "ts"}, timeout=0.1)
            return {"type": "generate_ok", "id": reply.body["ts"]}
        except RPCError as exc:
            if exc.code != 0:  # 0: timed out; anything else is not worth retrying
                raise


if __name__ == "__main__":
    node.run()
