"""Timekeeper 4 on the raw protocol: one JSON message per line on stdin and stdout."""

import json
import sys

node_id = None
next_msg_id = 0


def send(dest, body):
    global next_msg_id
    next_msg_id += 1
    body = {**body, "msg_id": next_msg_id}
    print(json.dumps({"src": node_id, "dest": dest, "body": body}), flush=True)


for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    if body["type"] == "init":
        node_id = body["node_id"]
        send(msg["src"], {"type": "init_ok", "in_reply_to": body["msg_id"]})
    elif body["type"] == "event":
        # TODO: merge body["seen"] entry by entry, count this event in your own entry.
        send(msg["src"], {"type": "event_ok", "in_reply_to": body["msg_id"], "vc": {}})
