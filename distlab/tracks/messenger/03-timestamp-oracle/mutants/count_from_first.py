"""Mutant: one timestamp from the oracle, then a local count from it; nodes overlap."""

from distlab import Node

node = Node()
base = None
counter = 0


@node.on("generate")
async def generate(msg):
    global base, counter
    if base is None:
        base = (await node.rpc("lin-tso", {"type": "ts"}, timeout=1.0)).body["ts"]
    counter += 1
    return {"type": "generate_ok", "id": base + counter}


if __name__ == "__main__":
    node.run()
