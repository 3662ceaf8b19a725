"""A log that survives kills: this one forgets everything. Fill in the TODOs, then `distlab check`."""

from distlab import Node

node = Node()
MAX_BATCH = 50
logs: dict[str, list[int]] = {}
committed: dict[str, int] = {}


@node.on("init")
def recover(msg):
    pass  # TODO: rebuild `logs` and `committed` from node.storage (it survives a kill)


@node.on("send")
def send(msg):
    log = logs.setdefault(msg.body["key"], [])
    offset = len(log)
    log.append(msg.body["msg"])
    # TODO: write the message to node.storage and sync before acknowledging
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
        committed[key] = max(committed.get(key, 0), offset)  # TODO: durable too
    return {"type": "commit_offsets_ok"}


@node.on("list_committed_offsets")
def list_committed_offsets(msg):
    offsets = {key: committed[key] for key in msg.body["keys"] if key in committed}
    return {"type": "list_committed_offsets_ok", "offsets": offsets}


if __name__ == "__main__":
    node.run()
