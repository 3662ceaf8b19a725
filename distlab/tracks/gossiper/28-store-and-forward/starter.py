"""Broadcast along a lossy line. Fill in the TODOs, then run `distlab check`."""

from distlab import Node

node = Node()
messages: set[int] = set()
neighbours: list[str] = []


@node.on("topology")
def topology(msg):
    neighbours[:] = msg.body["topology"].get(node.id, [])
    return {"type": "topology_ok"}


def learn(new, came_from):
    for message in new:
        if message not in messages:
            messages.add(message)
            for peer in neighbours:
                if peer != came_from:
                    # TODO: a fifth of these are dropped; keep the message until `peer` acknowledges it
                    node.send(peer, {"type": "forward", "messages": [message]})


@node.on("broadcast")
def broadcast(msg):
    learn([msg.body["message"]], None)
    return {"type": "broadcast_ok"}


@node.on("forward")
def forward(msg):
    learn(msg.body["messages"], msg.src)
    # TODO: acknowledge, so the sender can stop resending


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


if __name__ == "__main__":
    node.run()
