"""unique-ids through lin-tso behind an asyncio.Lock: at the end of a run, handlers are
still queued on the lock (a teardown that must stay quiet)."""
import asyncio

from distlab import Node, RPCError

node = Node()
lock = asyncio.Lock()

@node.on("generate")
async def generate(msg):
    async with lock:
        try:
            reply = await node.rpc("lin-tso", {"type": "ts"}, timeout=1.0)
        except RPCError as exc:
            return exc
    return {"type": "generate_ok", "id": reply.body["ts"]}

if __name__ == "__main__":
    node.run()
