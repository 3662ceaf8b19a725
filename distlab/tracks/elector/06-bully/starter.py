"""Elector 6: the bully rule. Answer `leader` with the highest-id node you believe alive."""

from distlab import Node

node = Node()
INTERVAL = 0.1
TIMEOUT = 1.0
last_heard: dict[str, float] = {}


@node.on("init")
def init(msg):
    for peer in node.node_ids:
        last_heard[peer] = node.now()


def beat():
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "heartbeat"})


node.every(INTERVAL, beat)


@node.on("heartbeat")
def heartbeat(msg):
    last_heard[msg.src] = node.now()


@node.on("leader")
def leader(msg):
    # TODO: the highest id among the nodes you can hear (and yourself). Compare ids by
    # their number: "n10" > "n9", though as strings "n10" < "n9".
    return {"type": "leader_ok", "leader": node.id}


if __name__ == "__main__":
    node.run()
