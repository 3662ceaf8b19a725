"""Mistake: retries forwarded sends, and the owner appends every copy it receives.

When the reply (not the request) was lost, the retry appends the message a
second time: one message at two offsets.
"""

import zlib

from distlab import Node, RPCError

node = Node()
MAX_BATCH = 50
logs: dict[str, list[int]] = {}
committed: dict[str, int] = {}
given: dict[str, int] = {}  # forwarded send id -> the offset it got
sequence = 0
TRIES = 5


def owner(key: str) -> str:
    return node.node_ids[zlib.crc32(str(key).encode()) % len(node.node_ids)]


def split(keys: list[str]) -> dict[str, list[str]]:
    """Keys grouped by owner."""
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(owner(key), []).append(key)
    return groups


async def call(dest: str, body: dict) -> dict:
    """An RPC retried a few times; callers make sure a repeat does no harm."""
    for attempt in range(TRIES):
        try:
            return (await node.rpc(dest, body, timeout=0.5)).body
        except RPCError:
            if attempt == TRIES - 1:
                raise
    raise AssertionError("unreachable")


@node.on("send")
async def send(msg):
    global sequence
    key = msg.body["key"]
    if owner(key) != node.id:
        sequence += 1
        body = {"type": "send", "key": key, "msg": msg.body["msg"], "id": f"{node.id}-{sequence}"}
        reply = await call(owner(key), body)
        return {"type": "send_ok", "offset": reply["offset"]}
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
            reply = await call(where, {"type": "poll", "offsets": {k: offsets[k] for k in keys}})
            out.update(reply["msgs"])
    return {"type": "poll_ok", "msgs": out}


@node.on("commit_offsets")
async def commit_offsets(msg):
    offsets = msg.body["offsets"]
    for where, keys in split(list(offsets)).items():
        if where == node.id:
            for key in keys:
                committed[key] = max(committed.get(key, 0), offsets[key])
        else:
            await call(where, {"type": "commit_offsets", "offsets": {k: offsets[k] for k in keys}})
    return {"type": "commit_offsets_ok"}


@node.on("list_committed_offsets")
async def list_committed_offsets(msg):
    out = {}
    for where, keys in split(msg.body["keys"]).items():
        if where == node.id:
            out.update({key: committed[key] for key in keys if key in committed})
        else:
            reply = await call(where, {"type": "list_committed_offsets", "keys": keys})
            out.update(reply["offsets"])
    return {"type": "list_committed_offsets_ok", "offsets": out}


if __name__ == "__main__":
    node.run()
