"""A one-node kafka log in memory whose committed offsets can be wrong on purpose.

Right as it stands. With a word on its command line:
  no-list   no list_committed_offsets handler (error 10 to every assign)
  log-end   list_committed_offsets answers each key's log end (the next offset to
            be written) instead of what was committed: a consumer seeking there
            skips every message nobody has processed yet
"""

import sys

from distlab import Node

node = Node()
logs = {}
committed = {}


@node.on("send")
def send(msg):
    log = logs.setdefault(msg.body["key"], [])
    log.append(msg.body["msg"])
    return {"type": "send_ok", "offset": len(log) - 1}


@node.on("poll")
def poll(msg):
    out = {}
    for key, start in msg.body["offsets"].items():
        log = logs.get(key, [])
        out[key] = [[i, log[i]] for i in range(start, min(len(log), start + 20))]
    return {"type": "poll_ok", "msgs": out}


@node.on("commit_offsets")
def commit_offsets(msg):
    for key, offset in msg.body["offsets"].items():
        committed[key] = max(committed.get(key, 0), offset)
    return {"type": "commit_offsets_ok"}


def list_committed_offsets(msg):
    keys = msg.body["keys"]
    if "log-end" in sys.argv:
        return {"type": "list_committed_offsets_ok", "offsets": {k: len(logs[k]) for k in keys if k in logs}}
    return {"type": "list_committed_offsets_ok", "offsets": {k: committed[k] for k in keys if k in committed}}


if "no-list" not in sys.argv:
    node.on("list_committed_offsets")(list_committed_offsets)

if __name__ == "__main__":
    node.run()
