"""Networker 1: serve `charge` by calling the `backend` service."""

from distlab import Node, RPCError

node = Node()


@node.on("charge")
async def charge(msg):
    # TODO: send {"type": "charge", "id": ..., "amount": ...} to "backend" with
    # `await node.rpc("backend", body, timeout=1.0)`, and answer the client with
    # {"type": "charge_ok", "receipt": <the backend's receipt>}. An RPCError from
    # the backend should reach the client as it is (return it).
    raise RPCError(10, "charge is not written yet")


if __name__ == "__main__":
    node.run()
