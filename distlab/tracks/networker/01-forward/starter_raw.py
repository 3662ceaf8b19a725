"""Networker 1 on the raw protocol: one JSON message per line on stdin, replies on
stdout. No distlab import, so `distlab check --bin` runs it as a real process; port
it to any language the same way."""

import json
import sys

node_id = None
next_id = 0
waiting = {}  # msg_id of our call to the backend -> the client's request


def send(dest, body):
    global next_id
    next_id += 1
    body = dict(body, msg_id=next_id)
    print(json.dumps({"src": node_id, "dest": dest, "body": body}), flush=True)
    return next_id


for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    if body["type"] == "init":
        node_id = body["node_id"]
        send(msg["src"], {"type": "init_ok", "in_reply_to": body["msg_id"]})
    elif body["type"] == "charge":
        # TODO: send {"type": "charge", "id": ..., "amount": ...} to "backend" and
        # remember the client's request under the call's msg_id (send returns it)
        send(msg["src"], {"type": "error", "code": 10, "text": "not written yet", "in_reply_to": body["msg_id"]})
    elif "in_reply_to" in body and body["in_reply_to"] in waiting:
        request = waiting.pop(body["in_reply_to"])
        # TODO: answer request["src"] with charge_ok and the receipt (or pass the error on)
