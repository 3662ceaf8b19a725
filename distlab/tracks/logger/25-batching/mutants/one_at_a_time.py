"""Mistake: forwards each send and each commit to the owner as its own RPC, at once.

Correct (this is logger/follower-reads' design), but at a few thousand
operations per second one message per forwarded request is far over budget.

The rest is the reference's design:

Each key has an owner (by hash) that hands out offsets, as in logger/efficient.
Every 50 ms the owner sends each peer the messages appended since the last push.
Pushes can overtake each other on the network, so a replica files messages by
offset and serves a poll only from the *contiguous* prefix it holds (its high
watermark): a poll may be behind, never have holes. So polls cost no message
at all; sends and offset commits still go to the owner.
"""

import zlib

from distlab import Node

node = Node()
MAX_BATCH = 50
logs: dict[str, list] = {}  # key -> gap-free prefix of its log (complete for keys this node owns)
early: dict[str, dict[int, object]] = {}  # key -> offset -> message that arrived before a gap closed
pending: dict[str, list] = {}  # owned key -> [offset, msg] pairs not pushed yet
committed: dict[str, int] = {}


def owner(key: str) -> str:
    return node.node_ids[zlib.crc32(str(key).encode()) % len(node.node_ids)]


def split(keys: list[str]) -> dict[str, list[str]]:
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
    pending.setdefault(key, []).append([len(log) - 1, msg.body["msg"]])
    return {"type": "send_ok", "offset": len(log) - 1}


def push():
    if not pending:
        return
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "replicate", "entries": pending})
    pending.clear()


node.every(0.05, push)


@node.on("replicate")
def replicate(msg):
    for key, pairs in msg.body["entries"].items():
        log, waiting = logs.setdefault(key, []), early.setdefault(key, {})
        for offset, message in pairs:
            if offset >= len(log):
                waiting[offset] = message
        while len(log) in waiting:  # extend the prefix as far as it is now gap-free
            log.append(waiting.pop(len(log)))


@node.on("poll")
def poll(msg):
    out = {}
    for key, start in msg.body["offsets"].items():
        log = logs.get(key, [])
        out[key] = [[i, log[i]] for i in range(start, min(len(log), start + MAX_BATCH))]
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
