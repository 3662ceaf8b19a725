"""Mutant: sends the notification and acknowledges at once; a lost message is never sent."""

from distlab import Node

node = Node()


@node.on("notify")
async def notify(msg):
    node.send("backend", {"type": "notify", "id": msg.body["id"]})
    return {"type": "notify_ok", "receipt": 0}


if __name__ == "__main__":
    node.run()
