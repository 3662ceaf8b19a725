"""Fan out in parallel: one concurrent RPC per peer, so a message is as late as its slowest link.

Each link's delay is random with a long tail. Sent one after another, a message
to the ninth peer waits for eight round trips first. Sent all at once, it waits
for one. Each send is retried until acknowledged, in its own task.
"""

from distlab import Node, RPCError

node = Node()
messages: set[int] = set()


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


async def deliver(peer: str, message: int) -> None:
    """Send one message to one peer until it acknowledges."""
    while True:
        try:
            await node.rpc(peer, {"type": "relay", "message": message}, timeout=2.0)
            return
        except RPCError:
            pass


@node.on("broadcast")
def broadcast(msg):
    message = msg.body["message"]
    if message not in messages:
        messages.add(message)
        for peer in node.node_ids:
            if peer != node.id:
                node.spawn(deliver(peer, message))  # all peers at once
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
