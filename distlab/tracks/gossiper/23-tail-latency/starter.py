"""Broadcast on long-tailed links. Fill in the TODOs, then run `distlab check`."""

from distlab import Node, RPCError

node = Node()
messages: set[int] = set()


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


async def fan_out(message):
    # TODO: this waits for each peer before the next; make the sends concurrent
    for peer in node.node_ids:
        if peer != node.id:
            try:
                await node.rpc(peer, {"type": "relay", "message": message}, timeout=2.0)
            except RPCError:
                pass  # TODO: retry until acknowledged


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
