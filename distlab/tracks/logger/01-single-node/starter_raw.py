"""A log node on the raw Maelstrom protocol (no SDK): one JSON message per line.

Port this to any language: read lines from stdin, write replies to stdout, log to stderr.
"""

import json
import sys

node_id = ""
next_msg_id = 0


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
        kind = body["type"]
        if kind == "init":
            node_id = body["node_id"]
            reply(msg, {"type": "init_ok"})
        elif kind == "send":
            # TODO: append body["msg"] to body["key"]'s log; reply with its offset
            reply(msg, {"type": "send_ok", "offset": 0})
        elif kind == "poll":
            # TODO: for each key in body["offsets"], [[offset, msg], ...] from that offset on
            reply(msg, {"type": "poll_ok", "msgs": {key: [] for key in body["offsets"]}})
        elif kind == "commit_offsets":
            # TODO: remember body["offsets"]
            reply(msg, {"type": "commit_offsets_ok"})
        elif kind == "list_committed_offsets":
            # TODO: the committed offset of each key in body["keys"]
            reply(msg, {"type": "list_committed_offsets_ok", "offsets": {}})


if __name__ == "__main__":
    main()
