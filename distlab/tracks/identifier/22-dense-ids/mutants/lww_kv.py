"""Mistake: the same compare-and-set loop, on lww-kv.

lww-kv applies a request on one of its replicas and merges them later by last
write wins: two nodes can both move "next" from 41 to 42 on different replicas,
and both hand out 41.
"""

from distlab import Node, RPCError

node = Node()
KEY = "next"
guess = 0  # what this node believes "next" holds


async def kv(body: dict) -> dict:
    return (await node.rpc("lww-kv", body, timeout=1.0)).body


@node.on("generate")
async def generate(msg):
    global guess
    while True:
        mine = guess
        try:
            await kv({"type": "cas", "key": KEY, "from": mine, "to": mine + 1, "create_if_not_exists": True})
            guess = max(guess, mine + 1)
            return {"type": "generate_ok", "id": mine}
        except RPCError as exc:
            if exc.code != 22:
                raise
        guess = (await kv({"type": "read", "key": KEY}))["value"]


if __name__ == "__main__":
    node.run()
