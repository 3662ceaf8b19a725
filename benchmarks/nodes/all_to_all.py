"""Benchmark node: every 100 ms (or the interval given on its command line), message every peer."""

import sys

from distlab import Node

node = Node()
received = 0


async def gossip():
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "gossip", "from": node.id})


node.every(float(sys.argv[1]) if len(sys.argv) > 1 else 0.1, gossip)


@node.on("gossip")
def on_gossip(msg):
    global received
    received += 1


@node.on("echo")
def echo(msg):
    return {"type": "echo_ok", "echo": msg.body["echo"]}


if __name__ == "__main__":
    node.run()
