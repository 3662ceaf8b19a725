"""Messenger 12: timestamps from a far-away oracle, many requests in flight."""

import asyncio

from distlab import Node, RPCError

node = Node()
queue: asyncio.Queue = asyncio.Queue()
worker = None


async def serve_queue() -> None:
    # TODO: this one worker sends one ts request at a time, like a single
    # connection. Does anything here need requests to go one by one?
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
