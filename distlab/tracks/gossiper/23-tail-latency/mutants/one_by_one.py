"""Mistake: awaits each peer's acknowledgement before sending to the next.

Correct and reliable, but the last peer hears of a message only after all the
round trips before it: the slow links add up.
"""

from distlab import Node, RPCError

node = Node()
messages: set[int] = set()


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


async def fan_out(message: int) -> None:
    for peer in node.node_ids:
        if peer == node.id:
            continue
        while True:
            try:
                await node.rpc(peer, {"type": "relay", "message": message}, timeout=2.0)
                break
            except RPCError:
                pass


@node.on("broadcast")
def broadcast(msg):
    message = msg.body["message"]
    if message not in messages:
        messages.add(message)
        node.spawn(fan_out(message))
    return {"type": "broadcast_ok"}


@node.on("relay")
def relay(msg):
    messages.add(msg.body["message"])
    return {"type": "relay_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


if __name__ == "__main__":
    node.run()
