"""Reject malformed requests: fill in the TODO, then run `distlab check`."""

from distlab import Node, RPCError  # noqa: F401  (RPCError: for your error replies)
from distlab.protocol import MALFORMED_REQUEST  # noqa: F401

node = Node()


@node.on("echo")
def echo(msg):
    # TODO: a missing or non-string "echo" must get error 12, not a crash
    return {"type": "echo_ok", "echo": msg.body["echo"]}


if __name__ == "__main__":
    node.run()
