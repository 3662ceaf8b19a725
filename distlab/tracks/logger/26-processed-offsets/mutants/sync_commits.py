"""Mistake: forwards each commit to the owner and waits for it, as logger/efficient does.

Correct, but one round trip per commit puts it over the message budget.

The rest is logger/efficient's design:

A key's owner is chosen by hashing the key, so every node agrees without asking.
Requests for keys this node owns are answered locally; the rest are forwarded to
the owner in one RPC per owner. Offsets stay unique because one node hands them
out, and no storage service is called at all. The price is that a key is only as
available as its owner (no crashes or partitions in this task).
"""

import zlib

from distlab import Node

node = Node()
MAX_BATCH = 50
logs: dict[str, list[int]] = {}
committed: dict[str, int] = {}


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


@node.on("commit_offsets")
async def commit_offsets(msg):
    offsets = msg.body["offsets"]
    for where, keys in split(list(offsets)).items():
        if where == node.id:
            for key in keys:
                committed[key] = max(committed.get(key, 0), offsets[key])
        else:
            await node.rpc(where, {"type": "commit_offsets", "offsets": {k: offsets[k] for k in keys}}, timeout=1.0)
    return {"type": "commit_offsets_ok"}


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
