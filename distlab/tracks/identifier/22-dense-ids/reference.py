"""Dense ids: every id is the next integer, claimed with one compare-and-set on lin-kv.

The shared key "next" holds the next unclaimed id. A node guesses its value
(its last read, or what it last wrote), moves it one forward with
compare-and-set, and on error 22 reads the real value and tries again. Only one
node's cas can move it from a given value, so each id has one owner.
"""

from distlab import Node, RPCError

node = Node()
KEY = "next"
guess = 0  # what this node believes "next" holds


async def kv(body: dict) -> dict:
    return (await node.rpc("lin-kv", body, timeout=1.0)).body


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
