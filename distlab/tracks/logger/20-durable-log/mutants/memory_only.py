"""Mistake: keeps the log in memory only.

A killed node comes back empty and hands out offset 0 again: two messages share
an offset, and acknowledged messages are gone.
"""

from distlab import Node

node = Node()
MAX_BATCH = 50
logs: dict[str, list[int]] = {}
committed: dict[str, int] = {}


@node.on("send")
def send(msg):
    log = logs.setdefault(msg.body["key"], [])
    offset = len(log)
    log.append(msg.body["msg"])
    return {"type": "send_ok", "offset": offset}


@node.on("poll")
def poll(msg):
    out = {}
    for key, start in msg.body["offsets"].items():
        log = logs.get(key, [])
        out[key] = [[offset, log[offset]] for offset in range(start, min(len(log), start + MAX_BATCH))]
    return {"type": "poll_ok", "msgs": out}


@node.on("commit_offsets")
def commit_offsets(msg):
    for key, offset in msg.body["offsets"].items():
        if offset > committed.get(key, 0):
            committed[key] = offset
    return {"type": "commit_offsets_ok"}


@node.on("list_committed_offsets")
def list_committed_offsets(msg):
    offsets = {key: committed[key] for key in msg.body["keys"] if key in committed}
    return {"type": "list_committed_offsets_ok", "offsets": offsets}


if __name__ == "__main__":
    node.run()
