"""Mistake: echoing the request's id instead of its text."""

from distlab import Node

node = Node()


@node.on("echo")
async def echo(msg):
    return {"type": "echo_ok", "echo": msg.body["msg_id"]}


if __name__ == "__main__":
    node.run()
