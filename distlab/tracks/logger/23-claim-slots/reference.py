"""A two-node log on lin-kv that stays gap-free when messages are lost or duplicated.

The log of logger/kafka allocates an offset with a compare-and-set on a counter
and stores the message afterwards. When that cas is duplicated by the network,
one copy applies and the other fails; if the failure is the reply that arrives,
the sender takes the next offset too, and the first stays empty for ever: every
poll stops at the hole. Here a send claims an offset by creating the message's
own slot: a cas with create_if_not_exists on `msg/<key>/<offset>`, which succeeds
only if the slot is empty. After an error 22 the node reads the slot: if it holds
this very message (values are unique), the claim did succeed. No counter, no
two-step append, so no hole can form. Each node remembers where a key's log
ended last time, so it rarely probes taken slots.
"""

from distlab import Node, RPCError

node = Node()
MAX_BATCH = 10
ends: dict[str, int] = {}  # key -> an offset known to be taken or beyond (a hint)


async def kv(body: dict) -> dict:
    return (await node.rpc("lin-kv", body, timeout=1.0)).body


async def read(key: str, default=None):
    try:
        return (await kv({"type": "read", "key": key}))["value"]
    except RPCError as exc:
        if exc.code == 20:
            return default
        raise


@node.on("send")
async def send(msg):
    key, message = str(msg.body["key"]), msg.body["msg"]
    offset = ends.get(key, 0)
    while True:
        slot = f"msg/{key}/{offset}"
        try:
            await kv({"type": "cas", "key": slot, "from": None, "to": message, "create_if_not_exists": True})
            break
        except RPCError as exc:
            if exc.code != 22:
                raise  # a timeout: the slot may or may not be ours; the client learns it failed
        if await read(slot) == message:
            break  # a duplicate of our own cas claimed it first
        offset += 1
    ends[key] = max(ends.get(key, 0), offset + 1)
    return {"type": "send_ok", "offset": offset}


@node.on("poll")
async def poll(msg):
    out = {}
    for key, start in msg.body["offsets"].items():
        pairs = []
        for offset in range(start, start + MAX_BATCH):
            message = await read(f"msg/{key}/{offset}")
            if message is None:
                break
            pairs.append([offset, message])
        out[key] = pairs
    return {"type": "poll_ok", "msgs": out}


@node.on("commit_offsets")
async def commit_offsets(msg):
    for key, offset in msg.body["offsets"].items():
        current = await read(f"committed/{key}", 0)
        while offset > current:
            try:
                await kv({"type": "cas", "key": f"committed/{key}", "from": current, "to": offset,
                          "create_if_not_exists": current == 0})
                break
            except RPCError as exc:
                if exc.code not in (20, 22):
                    raise
            current = await read(f"committed/{key}", 0)
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
