"""A log kept in each node's memory: right on one node, wrong on two.

With two nodes each hands out its own offsets, so the same offset of a key
holds different messages depending on whom you ask.
"""

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
        out[key] = [[i, log[i]] for i in range(start, len(log))]
    return {"type": "poll_ok", "msgs": out}


@node.on("commit_offsets")
def commit_offsets(msg):
    committed.update(msg.body["offsets"])
    return {"type": "commit_offsets_ok"}


@node.on("list_committed_offsets")
def list_committed_offsets(msg):
    return {"type": "list_committed_offsets_ok", "offsets": {k: committed[k] for k in msg.body["keys"] if k in committed}}


if __name__ == "__main__":
    node.run()
