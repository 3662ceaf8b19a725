"""An echo and lin-kv node in the raw protocol (no distlab import) that forwards to a leader.

n0 holds the map and answers everything. Any other node forwards a client's
request to n0 unchanged, still carrying the client's `src` (as Maelstrom's
Python Raft demo does), so n0 answers the client directly. Maelstrom routes by
the `src` a message carries, so this is available and linearizable.
"""

import json
import sys

node_id = None
data = {}


def send(src, dest, body):
    sys.stdout.write(json.dumps({"src": src, "dest": dest, "body": body}) + "\n")
    sys.stdout.flush()


def answer(msg):
    body = msg["body"]
    key = body.get("key")
    out = {"in_reply_to": body["msg_id"]}
    if body["type"] == "echo":
        out.update(type="echo_ok", echo=body["echo"])
    elif body["type"] == "read":
        if key in data:
            out.update(type="read_ok", value=data[key])
        else:
            out.update(type="error", code=20)
    elif body["type"] == "write":
        data[key] = body["value"]
        out.update(type="write_ok")
    elif body["type"] == "cas":
        if key not in data:
            out.update(type="error", code=20)
        elif data[key] != body["from"]:
            out.update(type="error", code=22)
        else:
            data[key] = body["to"]
            out.update(type="cas_ok")
    else:
        out.update(type="error", code=10)
    send(node_id, msg["src"], out)


for line in sys.stdin:
    msg = json.loads(line)
    if msg["body"]["type"] == "init":
        node_id = msg["body"]["node_id"]
        send(node_id, msg["src"], {"type": "init_ok", "in_reply_to": msg["body"]["msg_id"]})
    elif node_id == "n0":
        answer(msg)
    else:
        msg["dest"] = "n0"  # forward as is: the src stays the client's
        send(msg["src"], "n0", msg["body"])
