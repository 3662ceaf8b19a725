"""Mistake: asks lin-tso for every request: correct, but each id costs a 200 ms round trip
and the client gives up after 150 ms."""

from distlab import Node, RPCError

node = Node()


@node.on("generate")
async def generate(msg):
    while True:
        try:
            reply = await node.rpc("lin-tso", {"type": "ts"}, timeout=1.0)
            return {"type": "generate_ok", "id": reply.body["ts"]}
        except RPCError as exc:
            if exc.code != 0:  # 0: timed out; anything else is not worth retrying
                raise


if __name__ == "__main__":
    node.run()
