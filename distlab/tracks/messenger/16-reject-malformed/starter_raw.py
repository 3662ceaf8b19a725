"""Reject malformed requests on the raw protocol: one JSON message per line on stdin,
replies on stdout. No distlab import, so `distlab check --bin` runs it as a real
process; port it to any language the same way."""

import json
import sys

node_id = None
next_id = 0


def send(dest, body):
    global next_id
    next_id += 1
    body = dict(body, msg_id=next_id)
    print(json.dumps({"src": node_id, "dest": dest, "body": body}), flush=True)


def error(msg, code, text):
    send(msg["src"], {"type": "error", "in_reply_to": msg["body"]["msg_id"], "code": code, "text": text})


for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    if body["type"] == "init":
        node_id = body["node_id"]
        send(msg["src"], {"type": "init_ok", "in_reply_to": body["msg_id"]})
    elif body["type"] == "echo":
        # TODO: a missing or non-string "echo" gets error(msg, 12, "...")
        send(msg["src"], {"type": "echo_ok", "in_reply_to": body["msg_id"], "echo": body["echo"]})
    # TODO: any other type gets error(msg, 10, "...")
