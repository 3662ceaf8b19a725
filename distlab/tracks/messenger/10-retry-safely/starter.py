"""Messenger 10: a lin-kv proxy over a lossy link that retries only safe requests."""

from distlab import Node, RPCError

node = Node()
TIMEOUT = 0.1


async def call(body, retry):
    """Send body to lin-kv; returns the reply body or raises RPCError."""
    # TODO: when retry is true, repeat timed-out attempts (code 0) with capped,
    # jittered exponential backoff until a deadline (as in retry-backoff).
    return (await node.rpc("lin-kv", body, timeout=TIMEOUT)).body


async def forward(msg):
    body = {k: v for k, v in msg.body.items() if k != "msg_id"}
    try:
        # TODO: which request types may be retried?
        reply = await call(body, retry=False)
    except RPCError as exc:
        return exc
    return {k: v for k, v in reply.items() if k != "in_reply_to"}


for kind in ("read", "write", "cas"):
    node.on(kind)(forward)

if __name__ == "__main__":
    node.run()
