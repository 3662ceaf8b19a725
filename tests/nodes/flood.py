"""Floods its peers: a tight asyncio loop of sends."""

import asyncio

from distlab import Node

node = Node()


async def flood():
    while True:
        for peer in node.node_ids:
            node.send(peer, {"type": "spam"})
        await asyncio.sleep(0)


@node.on("init")
async def init(msg):
    node.spawn(flood())


@node.on("spam")
def spam(msg):
    return None


@node.on("echo")
def echo(msg):
    return {"type": "echo_ok", "echo": msg.body["echo"]}


if __name__ == "__main__":
    node.run()
