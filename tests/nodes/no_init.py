"""Never answers init: its init hook waits forever."""

import asyncio

from distlab import Node

node = Node()


@node.on("init")
async def init(msg):
    await asyncio.Event().wait()


if __name__ == "__main__":
    node.run()
