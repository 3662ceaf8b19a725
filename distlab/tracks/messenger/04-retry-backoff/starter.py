"""Messenger 4: timestamps from lin-tso over a lossy network, with retries."""

from distlab import Node, RPCError

node = Node()
TIMEOUT = 0.1  # seconds per attempt; a round trip takes about 40 ms here
BASE = 0.02  # first backoff bound, seconds
CAP = 0.5  # largest backoff bound, seconds
DEADLINE = 4.0  # give up before the client's 5 s timeout


async def timestamp():
    """One timestamp from lin-tso, retried after timeouts."""
    # TODO: on RPCError with code 0 (timeout), sleep a jittered, capped,
    # exponentially growing time (asyncio.sleep, node.random.uniform) and try
    # again, until DEADLINE seconds (node.now()) have passed.
    reply = await node.rpc("lin-tso", {"type": "ts"}, timeout=TIMEOUT)
    return reply.body["ts"]


@node.on("generate")
async def generate(msg):
    try:
        return {"type": "generate_ok", "id": await timestamp()}
    except RPCError as exc:
        return exc


if __name__ == "__main__":
    node.run()
