"""A raw-protocol echo node (no distlab import) that answers every other echo with error 13.

What a crashing handler looks like from outside, for a node in any language.
"""

import json
import sys

node_id = None
count = 0


def send(dest, body):
    sys.stdout.write(json.dumps({"src": node_id, "dest": dest, "body": body}) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    if body["type"] == "init":
        node_id = body["node_id"]
        send(msg["src"], {"type": "init_ok", "in_reply_to": body["msg_id"]})
    elif body["type"] == "echo":
        count += 1
        if count % 2:
            send(msg["src"], {"type": "error", "code": 13, "text": "IndexError: list index out of range",
                              "in_reply_to": body["msg_id"]})
        else:
            send(msg["src"], {"type": "echo_ok", "echo": body["echo"], "in_reply_to": body["msg_id"]})
