"""A single-node Kafka-style log that survives being killed.

Every message is written to storage under its own key and synced before
send_ok, so an acknowledged offset is never handed out again after a restart
and a later poll still finds the message. Committed offsets are synced before
commit_offsets_ok for the same reason. On start the node rebuilds its lists
from storage.
"""

from distlab import Node

node = Node()
MAX_BATCH = 50
logs: dict[str, list[int]] = {}
committed: dict[str, int] = {}


@node.on("init")
def recover(msg):
    found: dict[str, dict[int, int]] = {}
    for name in node.storage:
        kind, _, rest = name.partition("/")
        if kind == "msg":
            key, _, offset = rest.rpartition("/")
            found.setdefault(key, {})[int(offset)] = node.storage[name]
        elif kind == "committed":
            committed[rest] = node.storage[name]
    for key, by_offset in found.items():
        log = logs[key] = []
        while len(log) in by_offset:  # a prefix: nothing after a gap was acknowledged
            log.append(by_offset[len(log)])


@node.on("send")
def send(msg):
    log = logs.setdefault(msg.body["key"], [])
    offset = len(log)
    log.append(msg.body["msg"])
    node.storage[f"msg/{msg.body['key']}/{offset}"] = msg.body["msg"]
    node.storage.sync()
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
            node.storage[f"committed/{key}"] = offset
    node.storage.sync()
    return {"type": "commit_offsets_ok"}


@node.on("list_committed_offsets")
def list_committed_offsets(msg):
    offsets = {key: committed[key] for key in msg.body["keys"] if key in committed}
    return {"type": "list_committed_offsets_ok", "offsets": offsets}


if __name__ == "__main__":
    node.run()
