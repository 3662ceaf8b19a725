"""Mutant: fire and forget; the client hears "done" before the backend did anything."""

from distlab import Node

node = Node()


@node.on("charge")
async def charge(msg):
    node.send("backend", {"type": "charge", "id": msg.body["id"], "amount": msg.body["amount"]})
    return {"type": "charge_ok", "receipt": 0}


if __name__ == "__main__":
    node.run()
