"""Echo whose handler indexes the Message like a dict: a TypeError on every request."""

from distlab import Node

node = Node()


@node.on("echo")
def echo(msg):
    return {"type": "echo_ok", "echo": msg["body"]["echo"]}


if __name__ == "__main__":
    node.run()
