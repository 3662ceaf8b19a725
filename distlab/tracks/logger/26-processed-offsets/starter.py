"""Processed, not delivered: cheap commits. Fill in the TODOs, then run `distlab check`."""

from distlab import Node, RPCError  # noqa: F401 (RPCError: what node.rpc raises)

node = Node()


@node.on("send")
async def send(msg):
    key, message = msg.body["key"], msg.body["msg"]  # noqa: F841
    # TODO: append `message` to key's log and reply with the offset it got
    return {"type": "send_ok", "offset": 0}


@node.on("poll")
async def poll(msg):
    out = {}
    for key, start in msg.body["offsets"].items():  # noqa: B007
        out[key] = []  # TODO: [[offset, message], ...] from offset `start` on
    return {"type": "poll_ok", "msgs": out}


@node.on("commit_offsets")
async def commit_offsets(msg):
    # TODO: record msg.body["offsets"] (key -> offset processed) for the owners' next push, answer at once
    return {"type": "commit_offsets_ok"}


@node.on("list_committed_offsets")
async def list_committed_offsets(msg):
    # TODO: the committed offset of each key in msg.body["keys"] that has one
    return {"type": "list_committed_offsets_ok", "offsets": {}}


if __name__ == "__main__":
    node.run()
