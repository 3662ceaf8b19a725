"""Mutant: remembers the values this node wrote and answers reads from them.

Faster, and right on one node; but another node's write makes the cache stale.
"""

from distlab import Node, RPCError

node = Node()
cache = {}


async def forward(msg):
    body = {k: v for k, v in msg.body.items() if k != "msg_id"}
    if body["type"] == "read" and body["key"] in cache:
        return {"type": "read_ok", "value": cache[body["key"]]}
    try:
        reply = await node.rpc("lin-kv", body, timeout=1.0)
    except RPCError as exc:
        return exc
    if body["type"] == "write":
        cache[body["key"]] = body["value"]
    elif body["type"] == "cas":
        cache[body["key"]] = body["to"]
    elif body["type"] == "read":
        cache[body["key"]] = reply.body["value"]
    return {k: v for k, v in reply.body.items() if k != "in_reply_to"}


for kind in ("read", "write", "cas"):
    node.on(kind)(forward)

if __name__ == "__main__":
    node.run()
