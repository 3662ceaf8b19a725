"""Elector 1 on the raw protocol: one JSON message per line on stdin and stdout.

Without an SDK there is no rpc() with a timeout: remember each outstanding `suspects`
request, send pings, collect pongs as they come, and answer when every pong is in or
the timeout has passed (a select() on stdin with a timeout, or a thread with a queue)."""

import json
import sys

node_id = None
node_ids = []
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
        node_id, node_ids = body["node_id"], body["node_ids"]
        send(msg["src"], {"type": "init_ok", "in_reply_to": body["msg_id"]})
    elif body["type"] == "ping":
        send(msg["src"], {"type": "pong", "in_reply_to": body["msg_id"]})
    elif body["type"] == "suspects":
        # TODO: ping the peers and list those that do not answer within 0.5 s.
        send(msg["src"], {"type": "suspects_ok", "in_reply_to": body["msg_id"], "suspects": []})
