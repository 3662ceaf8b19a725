"""Mistake: refuses bad fields with error 10 (not-supported), which says the node has no such operation, instead of 12 (malformed-request)."""

from distlab import Node, RPCError
from distlab.protocol import NOT_SUPPORTED

node = Node()


@node.on("echo")
def echo(msg):
    text = msg.body.get("echo")
    if not isinstance(text, str):
        raise RPCError(NOT_SUPPORTED, "bad echo request")
    return {"type": "echo_ok", "echo": text}


if __name__ == "__main__":
    node.run()
