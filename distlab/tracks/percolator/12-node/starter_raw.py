"""A Percolator node on the raw Maelstrom protocol (no SDK): one JSON message per line.

Port this to any language: read lines from stdin, write replies to stdout, log to stderr.
Your node sends its own requests to "lin-kv" (read, cas) and "lin-tso" (ts) the same way,
with a msg_id of its own, and matches their replies by in_reply_to; a transaction then
waits for several replies, so keep its state between lines (or use threads or an event loop).
"""

import json
import sys

node_id = ""
next_msg_id = 0
memory: dict[str, object] = {}  # TODO: rows in lin-kv, timestamps from lin-tso, not this


def send(dest: str, body: dict) -> int:
    global next_msg_id
    next_msg_id += 1
    print(json.dumps({"src": node_id, "dest": dest, "body": dict(body, msg_id=next_msg_id)}), flush=True)
    return next_msg_id


def reply(request: dict, body: dict) -> None:
    send(request["src"], dict(body, in_reply_to=request["body"]["msg_id"]))


def main() -> None:
    global node_id
    for line in sys.stdin:
        msg = json.loads(line)
        body = msg["body"]
        if body["type"] == "init":
            node_id = body["node_id"]
            reply(msg, {"type": "init_ok"})
        elif body["type"] == "txn":
            # TODO: start_ts from lin-tso; snapshot reads of rows that resolve locks;
            # buffered writes; prewrite all, commit the primary, then the secondaries.
            result = []
            for kind, key, value in body["txn"]:
                if kind == "r":
                    result.append(["r", key, memory.get(str(key))])
                else:
                    memory[str(key)] = value
                    result.append([kind, key, value])
            reply(msg, {"type": "txn_ok", "txn": result})


if __name__ == "__main__":
    main()
