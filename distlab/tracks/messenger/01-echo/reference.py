"""Echo, solved: the reply carries the request's own text."""

from distlab import Node

node = Node()


@node.on("echo")
async def echo(msg):
    return {"type": "echo_ok", "echo": msg.body["echo"]}


if __name__ == "__main__":
    node.run()
