"""The owner-per-key log of logger/efficient with consumer commits that cost no round trip.

A committed offset says how far a consumer has *processed* a key; a consumer
that resumes from an older one only reads some messages again (at-least-once),
so a commit need not reach the owner before it is acknowledged. A node records
the commit, answers at once, and sends the highest offset per key to each owner
every 100 ms. The owner keeps the maximum. What must never happen is the other
direction: a committed offset past what any consumer committed.
"""

import zlib

from distlab import Node

node = Node()
MAX_BATCH = 50
logs: dict[str, list[int]] = {}
committed: dict[str, int] = {}  # owned key -> highest offset a consumer said it processed
outgoing: dict[str, dict[str, int]] = {}  # owner -> commits to send it with the next push


def owner(key: str) -> str:
    return node.node_ids[zlib.crc32(str(key).encode()) % len(node.node_ids)]


def split(keys: list[str]) -> dict[str, list[str]]:
    """Keys grouped by owner."""
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(owner(key), []).append(key)
    return groups


@node.on("send")
async def send(msg):
    key = msg.body["key"]
    if owner(key) != node.id:
        reply = await node.rpc(owner(key), {"type": "send", "key": key, "msg": msg.body["msg"]}, timeout=1.0)
        return {"type": "send_ok", "offset": reply.body["offset"]}
    log = logs.setdefault(key, [])
    log.append(msg.body["msg"])
    return {"type": "send_ok", "offset": len(log) - 1}


@node.on("poll")
async def poll(msg):
    offsets = msg.body["offsets"]
    out = {}
    for where, keys in split(list(offsets)).items():
        if where == node.id:
            for key in keys:
                log, start = logs.get(key, []), offsets[key]
                out[key] = [[i, log[i]] for i in range(start, min(len(log), start + MAX_BATCH))]
        else:
            reply = await node.rpc(where, {"type": "poll", "offsets": {k: offsets[k] for k in keys}}, timeout=1.0)
            out.update(reply.body["msgs"])
    return {"type": "poll_ok", "msgs": out}


def advance(offsets: dict) -> None:
    for key, offset in offsets.items():
        committed[key] = max(committed.get(key, 0), offset)


@node.on("commit_offsets")
def commit_offsets(msg):
    """Acknowledged at once: recorded here and sent to the owners with the next push."""
    for where, keys in split(list(msg.body["offsets"])).items():
        if where == node.id:
            advance({k: msg.body["offsets"][k] for k in keys})
        else:
            target = outgoing.setdefault(where, {})
            for key in keys:
                target[key] = max(target.get(key, 0), msg.body["offsets"][key])
    return {"type": "commit_offsets_ok"}


@node.on("committed")
def committed_from_peer(msg):
    advance(msg.body["offsets"])


def push():
    for where, offsets in outgoing.items():
        if offsets:
            node.send(where, {"type": "committed", "offsets": offsets})
    outgoing.clear()


node.every(0.1, push)


@node.on("list_committed_offsets")
async def list_committed_offsets(msg):
    out = {}
    for where, keys in split(msg.body["keys"]).items():
        if where == node.id:
            out.update({key: committed[key] for key in keys if key in committed})
        else:
            reply = await node.rpc(where, {"type": "list_committed_offsets", "keys": keys}, timeout=1.0)
            out.update(reply.body["offsets"])
    return {"type": "list_committed_offsets_ok", "offsets": out}


if __name__ == "__main__":
    node.run()
