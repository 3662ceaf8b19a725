"""Typed requests: each message type declares its fields, and one validator checks them.

A schema per type says which fields are required, which optional, and their JSON
type. JSON's types are not Python's: `true` is not an integer (though Python's bool
is an int), `1.5` is not one either, and an array must be checked element by
element. Fields a schema does not name are ignored, so clients can add fields (a
trace id, a newer option) without breaking older servers.
"""

from distlab import Node, RPCError
from distlab.protocol import MALFORMED_REQUEST

node = Node()

STRING, INTEGER, STRINGS = "a string", "an integer", "an array of strings"
SCHEMAS = {  # type -> {field: (kind, required)}
    "echo": {"echo": (STRING, True)},
    "add": {"a": (INTEGER, True), "b": (INTEGER, True)},
    "join": {"parts": (STRINGS, True), "sep": (STRING, False)},
}


def fits(value, kind) -> bool:
    if kind == STRING:
        return isinstance(value, str)
    if kind == INTEGER:
        return type(value) is int  # not bool, not float
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def validate(body: dict) -> dict:
    for field, (kind, required) in SCHEMAS[body["type"]].items():
        if field not in body:
            if required:
                raise RPCError(MALFORMED_REQUEST, f"{body['type']} needs the field {field!r}")
        elif not fits(body[field], kind):
            raise RPCError(MALFORMED_REQUEST, f"field {field!r} must be {kind}")
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
