"""Mistake: treating the SDK's Message as the raw JSON dict."""

from distlab import Node

node = Node()


@node.on("echo")
async def echo(msg):
    return {"type": "echo_ok", "echo": msg["body"]["echo"]}


if __name__ == "__main__":
    node.run()
