"""Starts a thread from a handler: forbidden in the simulator."""

import threading

from distlab import Node

node = Node()


@node.on("echo")
async def echo(msg):
    threading.Thread(target=lambda: None).start()
    return {"type": "echo_ok", "echo": msg.body["echo"]}


if __name__ == "__main__":
    node.run()
