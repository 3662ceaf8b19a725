"""A stateless counter node: fill in the TODOs (keep nothing in memory), then run `distlab check`."""

from distlab import Node, RPCError  # noqa: F401 (RPCError: what node.rpc raises)

node = Node()


async def kv(body: dict) -> dict:
    """Call the seq-kv service; raises RPCError (code 20: no such key, 22: cas mismatch)."""
    return (await node.rpc("seq-kv", body, timeout=1.0)).body


@node.on("add")
async def add(msg):
    delta = msg.body["delta"]  # noqa: F841 (TODO: store it in seq-kv without racing other nodes)
    return {"type": "add_ok"}


@node.on("read")
async def read(msg):
    value = 0  # TODO: read what the nodes stored in seq-kv and add it up
    return {"type": "read_ok", "value": value}


if __name__ == "__main__":
    node.run()
