"""A lin-kv node that simply forwards every request to a key/value service.

With the default, `lin-kv`, it is linearizable because the service is. Give it
`seq-kv` or `lww-kv` on its command line and it is not: the checker shows the
stale read that proves it.
"""

import sys

from distlab import Node

SERVICE = sys.argv[1] if len(sys.argv) > 1 else "lin-kv"
node = Node()


async def forward(msg):
    body = {k: v for k, v in msg.body.items() if k != "msg_id"}
    reply = await node.rpc(SERVICE, body, timeout=1.0)
    return {k: v for k, v in reply.body.items() if k != "in_reply_to"}


for kind in ("read", "write", "cas"):
    node.on(kind)(forward)

if __name__ == "__main__":
    node.run()
