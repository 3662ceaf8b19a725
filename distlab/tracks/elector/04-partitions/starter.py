"""Elector 4: a failure detector under partitions. Report the peers *you* cannot hear from."""

from distlab import Node

node = Node()
INTERVAL = 0.1  # seconds between heartbeats
TIMEOUT = 1.0   # silence after which a peer is suspected
last_heard: dict[str, float] = {}  # peer -> node.now() when we last heard from it


def beat():
    # TODO: send {"type": "heartbeat"} to every other node (node.send: no reply expected).
    pass


node.every(INTERVAL, beat)


@node.on("heartbeat")
def heartbeat(msg):
    last_heard[msg.src] = node.now()


@node.on("suspects")
def suspects(msg):
    # TODO: the peers not heard from for more than TIMEOUT. What should a node that has
    # just (re)started think of peers it has not heard from yet?
    return {"type": "suspects_ok", "suspects": []}


if __name__ == "__main__":
    node.run()
