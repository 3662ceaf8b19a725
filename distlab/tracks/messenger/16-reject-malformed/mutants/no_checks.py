"""Mistake: trusts every request: a missing field raises KeyError (error 13), a number is echoed back as if it were text."""

from distlab import Node

node = Node()


@node.on("echo")
def echo(msg):
    return {"type": "echo_ok", "echo": msg.body["echo"]}


if __name__ == "__main__":
    node.run()
