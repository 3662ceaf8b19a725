"""Mistake: the owner answers every send of a batch with the offset of the batch's first message.

Kafka answers a produce request with a *base offset*, and the producer adds each
record's position in the batch; this owner forgets the second half, so two
messages of one batch are acknowledged at the same offset.

The rest is the reference's design:

Polls are answered from this node's gap-free copy, as in logger/follower-reads.
Sends and offset commits for a key owned elsewhere are queued per owner; every
10 ms each queue goes to its owner as one `batch` RPC, which the owner applies
in order and answers with one result per request (each send its own offset).
The owner's pushes to followers are batched the same way. One message then
carries many operations: this is Kafka's producer `linger.ms`.
"""

import asyncio
import zlib

from distlab import Node

node = Node()
MAX_BATCH = 50
LINGER = 0.02
logs: dict[str, list] = {}  # key -> gap-free prefix of its log (all of it for keys this node owns)
early: dict[str, dict[int, object]] = {}  # key -> offset -> message that arrived before a gap closed
pending: dict[str, list] = {}  # owned key -> [offset, msg] pairs not pushed yet
committed: dict[str, int] = {}
queues: dict[str, list] = {}  # owner -> [(request, future), ...] waiting for the next batch


def owner(key: str) -> str:
    return node.node_ids[zlib.crc32(str(key).encode()) % len(node.node_ids)]


def apply(request: dict) -> object:
    """A send or a commit for keys this node owns; the send's offset, or None."""
    if request["type"] == "send":
        log = logs.setdefault(request["key"], [])
        log.append(request["msg"])
        pending.setdefault(request["key"], []).append([len(log) - 1, request["msg"]])
        return len(log) - 1
    for key, offset in request["offsets"].items():
        committed[key] = max(committed.get(key, 0), offset)
    return None


async def via_owner(where: str, request: dict) -> object:
    """Apply here, or queue for the owner's next batch and wait for its result."""
    if where == node.id:
        return apply(request)
    future = asyncio.get_running_loop().create_future()
    queues.setdefault(where, []).append((request, future))
    return await future


async def flush_one(where: str, queued: list) -> None:
    try:
        reply = await node.rpc(where, {"type": "batch", "requests": [r for r, _ in queued]}, timeout=1.0)
        for (_, future), result in zip(queued, reply.body["results"], strict=True):
            future.set_result(result)
    except Exception as exc:  # noqa: BLE001 (every waiting request fails with it)
        for _, future in queued:
            if not future.done():
                future.set_exception(exc)


def flush():
    for where, queued in list(queues.items()):
        if queued:
            node.spawn(flush_one(where, queued))
    queues.clear()


def push():
    if pending:
        for peer in node.node_ids:
            if peer != node.id:
                node.send(peer, {"type": "replicate", "entries": pending})
        pending.clear()


node.every(LINGER, flush)
node.every(0.05, push)


@node.on("batch")
def batch(msg):
    results, first = [], {}
    for request in msg.body["requests"]:
        offset = apply(request)
        if request["type"] == "send":  # the mistake: every send of a key gets the batch's base offset
            offset = first.setdefault(request["key"], offset)
        results.append(offset)
    return {"type": "batch_ok", "results": results}


@node.on("replicate")
def replicate(msg):
    for key, pairs in msg.body["entries"].items():
        log, waiting = logs.setdefault(key, []), early.setdefault(key, {})
        for offset, message in pairs:
            if offset >= len(log):
                waiting[offset] = message
        while len(log) in waiting:
            log.append(waiting.pop(len(log)))


@node.on("send")
async def send(msg):
    key = msg.body["key"]
    offset = await via_owner(owner(key), {"type": "send", "key": key, "msg": msg.body["msg"]})
    return {"type": "send_ok", "offset": offset}


@node.on("poll")
def poll(msg):
    out = {}
    for key, start in msg.body["offsets"].items():
        log = logs.get(key, [])
        out[key] = [[i, log[i]] for i in range(start, min(len(log), start + MAX_BATCH))]
    return {"type": "poll_ok", "msgs": out}


@node.on("commit_offsets")
async def commit_offsets(msg):
    groups: dict[str, dict] = {}
    for key, offset in msg.body["offsets"].items():
        groups.setdefault(owner(key), {})[key] = offset
    await asyncio.gather(*(via_owner(where, {"type": "commit", "offsets": offsets})
                           for where, offsets in groups.items()))
    return {"type": "commit_offsets_ok"}


@node.on("list_committed_offsets")
async def list_committed_offsets(msg):
    groups: dict[str, list] = {}
    for key in msg.body["keys"]:
        groups.setdefault(owner(key), []).append(key)
    out = {}
    for where, keys in groups.items():
        if where == node.id:
            out.update({key: committed[key] for key in keys if key in committed})
        else:
            reply = await node.rpc(where, {"type": "list_committed_offsets", "keys": keys}, timeout=1.0)
            out.update(reply.body["offsets"])
    return {"type": "list_committed_offsets_ok", "offsets": out}


if __name__ == "__main__":
    node.run()
