"""Mutant: calls the backend, then numbers the receipts itself."""

from distlab import Node, RPCError

node = Node()
issued = 0


@node.on("charge")
async def charge(msg):
    global issued
    try:
        await node.rpc("backend", {"type": "charge", "id": msg.body["id"], "amount": msg.body["amount"]}, timeout=1.0)
    except RPCError as exc:
        return exc
    issued += 1
    return {"type": "charge_ok", "receipt": issued}


if __name__ == "__main__":
    node.run()
