"""echo and lin-kv on one leader, n0; other nodes forward client requests to it as the client.

The simulator's host can send with another sender's `src` (`send_as`), as
Maelstrom lets a node do; n0 then answers the client directly. The same node
in the raw protocol is tests/nodes/raw/forward_leader.py. With `as-nobody`
on its command line it forwards as "x9", an id no one has: a protocol error.
"""

import sys

from distlab import Node, RPCError

AS = "x9" if "as-nobody" in sys.argv else None

node = Node()
data = {}


def serve(msg):
    if node.id != "n0":
        node.host.send_as(AS or msg.src, "n0", msg.body)  # no reply from here: n0 gives it
        return None
    body = msg.body
    if body["type"] == "echo":
        return {"type": "echo_ok", "echo": body["echo"]}
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


for kind in ("echo", "read", "write", "cas"):
    node.on(kind)(serve)

if __name__ == "__main__":
    node.run()
