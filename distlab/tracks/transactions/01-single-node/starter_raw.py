"""A transactional node on the raw Maelstrom protocol (no SDK): one JSON message per line.

Port this to any language: read lines from stdin, write replies to stdout, log to stderr.
"""

import json
import sys

node_id = ""
next_msg_id = 0
data: dict[str, int] = {}


def reply(request: dict, body: dict) -> None:
    global next_msg_id
    next_msg_id += 1
    body = dict(body, msg_id=next_msg_id, in_reply_to=request["body"]["msg_id"])
    print(json.dumps({"src": node_id, "dest": request["src"], "body": body}), flush=True)


def main() -> None:
    global node_id
    for line in sys.stdin:
        msg = json.loads(line)
        body = msg["body"]
        if body["type"] == "init":
            node_id = body["node_id"]
            reply(msg, {"type": "init_ok"})
        elif body["type"] == "txn":
            result = []
            for kind, key, value in body["txn"]:
                if kind == "r":
                    result.append(["r", key, None])  # TODO: the value this transaction sees
                else:
                    result.append(["w", key, value])  # TODO: apply the write to `data`
            reply(msg, {"type": "txn_ok", "txn": result})


if __name__ == "__main__":
    main()
