"""A broadcast node on the raw Maelstrom protocol (no SDK): one JSON message per line.

Port this to any language: read lines from stdin, write replies to stdout, log to stderr.
"""

import json
import sys

node_id = ""
node_ids: list[str] = []
next_msg_id = 0
messages: set[int] = set()


def send(dest: str, body: dict) -> None:
    global next_msg_id
    next_msg_id += 1
    body = dict(body, msg_id=next_msg_id)
    print(json.dumps({"src": node_id, "dest": dest, "body": body}), flush=True)


def reply(request: dict, body: dict) -> None:
    send(request["src"], dict(body, in_reply_to=request["body"]["msg_id"]))


def main() -> None:
    global node_id, node_ids
    for line in sys.stdin:
        msg = json.loads(line)
        body = msg["body"]
        kind = body["type"]
        if kind == "init":
            node_id, node_ids = body["node_id"], body["node_ids"]
            reply(msg, {"type": "init_ok"})
        elif kind == "topology":
            reply(msg, {"type": "topology_ok"})  # TODO: keep body["topology"][node_id] if you use it
        elif kind == "broadcast":
            messages.add(body["message"])  # TODO: pass it on to other nodes
            reply(msg, {"type": "broadcast_ok"})
        elif kind == "read":
            reply(msg, {"type": "read_ok", "messages": sorted(messages)})
        # TODO: handle the messages your nodes send each other (and their replies)


if __name__ == "__main__":
    main()
