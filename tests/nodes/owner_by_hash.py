"""lin-kv where each key lives on one owner, chosen as node_ids[H(str(key)) % n]; the
others forward to it. H is Python's hash() (salted per process, so nodes disagree on the
owner: broken on a real cluster) or, with `crc` on the command line, zlib.crc32 (the
same everywhere)."""

import sys
import zlib

from distlab import Node, RPCError

STABLE = "crc" in sys.argv
node = Node()
data = {}


def owner(key):
    text = str(key)
    h = zlib.crc32(text.encode()) if STABLE else hash(text)
    return node.node_ids[h % len(node.node_ids)]


async def serve(msg):
    body = dict(msg.body)
    home = owner(body["key"])
    if home != node.id and not body.pop("fwd", False):  # a forwarded request is served here
        body.pop("msg_id", None)
        body["fwd"] = True
        reply = await node.rpc(home, body, timeout=1.0)
        return dict(reply.body)
    key = body["key"]
    if body["type"] == "write":
        data[key] = body["value"]
        return {"type": "write_ok"}
    if key not in data:
        raise RPCError(20, "no such key")
    if body["type"] == "read":
        return {"type": "read_ok", "value": data[key]}
    if data[key] != body["from"]:
        raise RPCError(22, "mismatch")
    data[key] = body["to"]
    return {"type": "cas_ok"}


for kind in ("read", "write", "cas"):
    node.on(kind)(serve)

if __name__ == "__main__":
    node.run()
