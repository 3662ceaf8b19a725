"""Timekeeper 7 on the raw protocol: one JSON message per line on stdin and stdout."""

import json
import sys

node_id = None
next_msg_id = 0
messages = set()


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
    elif body["type"] == "broadcast":
        messages.add(body["message"])
        send(msg["src"], {"type": "broadcast_ok", "in_reply_to": body["msg_id"]})
    elif body["type"] == "read":
        # TODO: in delivery order, each message after the messages in its "deps"
        send(msg["src"], {"type": "read_ok", "in_reply_to": body["msg_id"], "messages": list(messages)})
