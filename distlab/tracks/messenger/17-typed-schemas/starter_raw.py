"""Typed schemas on the raw protocol: one JSON message per line on stdin, replies on
stdout. No distlab import, so `distlab check --bin` runs it as a real process; port
it to any language the same way."""

import json
import sys

node_id = None
next_id = 0


def send(dest, body):
    global next_id
    next_id += 1
    body = dict(body, msg_id=next_id)
    print(json.dumps({"src": node_id, "dest": dest, "body": body}), flush=True)


def reply(msg, body):
    send(msg["src"], dict(body, in_reply_to=msg["body"]["msg_id"]))


def validate(body):
    """None when the body fits its type's schema, else the reason (for error 12)."""
    return None  # TODO: check the fields of echo, add and join


for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    kind = body["type"]
    if kind == "init":
        node_id = body["node_id"]
        reply(msg, {"type": "init_ok"})
    elif kind in ("echo", "add", "join"):
        why = validate(body)
        if why is not None:
            reply(msg, {"type": "error", "code": 12, "text": why})
        elif kind == "echo":
            reply(msg, {"type": "echo_ok", "echo": body["echo"]})
        elif kind == "add":
            reply(msg, {"type": "add_ok", "sum": body["a"] + body["b"]})
        else:
            reply(msg, {"type": "join_ok", "text": body.get("sep", " ").join(body["parts"])})
    else:
        pass  # TODO: error 10 (not-supported)
