"""Mistake: allocates the offset with a cas on a counter, then stores the message (logger/kafka's design).

Correct on a clean network. When the counter's cas is duplicated, one copy
applies and the other fails; if only the failure is heard, the sender takes the
next offset as well, and the first offset stays empty: polls stop there for ever.
"""

from distlab import Node, RPCError

node = Node()
MAX_BATCH = 50


async def kv(body):
    return (await node.rpc("lin-kv", body, timeout=1.0)).body


async def read(key, default=None):
    try:
        return (await kv({"type": "read", "key": key}))["value"]
    except RPCError as exc:
        if exc.code == 20:
            return default
        raise


@node.on("send")
async def send(msg):
    key, message = msg.body["key"], msg.body["msg"]
    while True:
        offset = await read(f"next/{key}", 0)
        try:
            await kv({"type": "cas", "key": f"next/{key}", "from": offset, "to": offset + 1,
                      "create_if_not_exists": offset == 0})
            break
        except RPCError as exc:
            if exc.code not in (20, 22):  # lost the race: read the counter again
                raise
    await kv({"type": "write", "key": f"msg/{key}/{offset}", "value": message})
    return {"type": "send_ok", "offset": offset}


@node.on("poll")
async def poll(msg):
    out = {}
    for key, start in msg.body["offsets"].items():
        end = await read(f"next/{key}", 0)
        pairs = []
        for offset in range(start, min(end, start + MAX_BATCH)):
            message = await read(f"msg/{key}/{offset}")
            if message is None:
                break  # allocated but not stored yet: stop before the gap
            pairs.append([offset, message])
        out[key] = pairs
    return {"type": "poll_ok", "msgs": out}


@node.on("commit_offsets")
async def commit_offsets(msg):
    for key, offset in msg.body["offsets"].items():
        current = await read(f"committed/{key}", 0)
        if offset > current:
            await kv({"type": "write", "key": f"committed/{key}", "value": offset})
    return {"type": "commit_offsets_ok"}


@node.on("list_committed_offsets")
async def list_committed_offsets(msg):
    offsets = {}
    for key in msg.body["keys"]:
        value = await read(f"committed/{key}")
        if value is not None:
            offsets[key] = value
    return {"type": "list_committed_offsets_ok", "offsets": offsets}


if __name__ == "__main__":
    node.run()
