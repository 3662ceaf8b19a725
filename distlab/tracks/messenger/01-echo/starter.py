"""Echo: reply to each `echo` request with the text it carries."""

from distlab import Node

node = Node()


@node.on("echo")
async def echo(msg):
    # TODO: reply with the request's text. The request's fields are in msg.body.
    return {"type": "echo_ok", "echo": ""}


if __name__ == "__main__":
    node.run()
