"""Typed schemas: fill in the TODOs, then run `distlab check`."""

from distlab import Node, RPCError  # noqa: F401  (RPCError: for your error replies)
from distlab.protocol import MALFORMED_REQUEST  # noqa: F401

node = Node()

SCHEMAS = {  # type -> {field: (kind, required)}
    "echo": {"echo": ("string", True)},
    # TODO: "add" and "join"
}


def validate(body: dict) -> dict:
    # TODO: check body against SCHEMAS[body["type"]]; raise RPCError(MALFORMED_REQUEST, "...") on a mismatch
    return body


@node.on("echo")
def echo(msg):
    body = validate(msg.body)
    return {"type": "echo_ok", "echo": body["echo"]}


@node.on("add")
def add(msg):
    body = validate(msg.body)
    return {"type": "add_ok", "sum": body["a"] + body["b"]}


@node.on("join")
def join(msg):
    body = validate(msg.body)
    return {"type": "join_ok", "text": body.get("sep", " ").join(body["parts"])}


if __name__ == "__main__":
    node.run()
