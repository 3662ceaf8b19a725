"""Blocks in time.sleep: forbidden in the simulator."""

import time

from distlab import Node

node = Node()


@node.on("echo")
def echo(msg):
    time.sleep(0.5)
    return {"type": "echo_ok", "echo": msg.body["echo"]}


if __name__ == "__main__":
    node.run()
