"""Messenger 6: deltas retried until acknowledged, applied once by an idempotency key."""

from distlab import Node, RPCError

node = Node()
value = 0


async def deliver(peer, body):
    # TODO: a lost inc or inc_ok raises RPCError (code 0, timeout): retry, with
    # backoff, until the peer acknowledges.
    try:
        await node.rpc(peer, body, timeout=0.2)
    except RPCError:
        pass


@node.on("add")
def add(msg):
    global value
    delta = msg.body["delta"]
    value += delta
    # TODO: give this delta a key that every attempt carries.
    body = {"type": "inc", "delta": delta}
    for peer in node.node_ids:
        if peer != node.id:
            node.spawn(deliver(peer, body))
    return {"type": "add_ok"}


@node.on("inc")
def inc(msg):
    global value
    # TODO: apply each key once, acknowledge every attempt.
    value += msg.body["delta"]
    return {"type": "inc_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": value}


if __name__ == "__main__":
    node.run()
