"""Messenger 13: retry through partitions without a retry storm."""

from collections import OrderedDict

from distlab import Node, RPCError

node = Node()
CAPACITY = 100_000
value = 0
sequence = 0
applied: OrderedDict[str, None] = OrderedDict()


async def deliver(peer: str, body: dict) -> None:
    """Send until acknowledged, at once after each timeout."""
    # TODO: a 20 ms timeout and no pause between attempts resends each pending
    # delta fifty times a second during a partition. Back off (capped, jittered).
    while True:
        try:
            await node.rpc(peer, body, timeout=0.02)
            return
        except RPCError:
            pass


@node.on("add")
def add(msg):
    global value, sequence
    delta = msg.body["delta"]
    value += delta
    sequence += 1
    body = {"type": "inc", "key": f"{node.id}-{sequence}", "delta": delta}
    for peer in node.node_ids:
        if peer != node.id:
            node.spawn(deliver(peer, body))
    return {"type": "add_ok"}


@node.on("inc")
def inc(msg):
    global value
    key = msg.body["key"]
    if key in applied:
        applied.move_to_end(key)
    else:
        applied[key] = None
        if len(applied) > CAPACITY:
            applied.popitem(last=False)
        value += msg.body["delta"]
    return {"type": "inc_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": value}


if __name__ == "__main__":
    node.run()
