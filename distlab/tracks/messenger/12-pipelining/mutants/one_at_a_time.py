"""Mutant: one worker talks to lin-tso, like a single connection; handlers queue for it.
One request in flight per node, and a queue that grows until clients time out."""

import asyncio

from distlab import Node, RPCError

node = Node()
queue: asyncio.Queue = asyncio.Queue()
worker = None


async def serve_queue() -> None:
    while True:
        fut = await queue.get()
        try:
            reply = await node.rpc("lin-tso", {"type": "ts"}, timeout=1.0)
            fut.set_result(reply.body["ts"])
        except RPCError as exc:
            fut.set_exception(exc)


@node.on("generate")
async def generate(msg):
    global worker
    if worker is None:
        worker = node.spawn(serve_queue())
    fut = asyncio.get_running_loop().create_future()
    queue.put_nowait(fut)
    try:
        return {"type": "generate_ok", "id": await fut}
    except RPCError as exc:
        return exc


if __name__ == "__main__":
    node.run()
