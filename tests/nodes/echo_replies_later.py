"""Echo whose handler returns None but always answers with node.reply: correct, not silent.

Every other request is answered inside the handler, the rest 50 ms after it returned.
"""

import asyncio

from distlab import Node

node = Node()
count = 0


async def answer_later(msg):
    await asyncio.sleep(0.05)
    node.reply(msg, {"type": "echo_ok", "echo": msg.body["echo"]})


@node.on("echo")
def echo(msg):
    global count
    count += 1
    if count % 2:
        node.reply(msg, {"type": "echo_ok", "echo": msg.body["echo"]})
    else:
        node.spawn(answer_later(msg))


if __name__ == "__main__":
    node.run()
