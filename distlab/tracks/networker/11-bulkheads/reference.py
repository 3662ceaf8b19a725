"""Networker 11, reference: bulkheads. Slow reports may hold at most 4 of the 10 calls the
backend allows this node; charges have the other 6, which the reports cannot take."""

from distlab import Node, RPCError

node = Node()
POOL = 10  # calls the backend lets one caller have in progress
LIMITS = {"report": 4, "charge": POOL - 4}  # each kind of call gets its own compartment
in_flight = {"report": 0, "charge": 0}


async def call(kind: str, body: dict) -> dict:
    if in_flight[kind] >= LIMITS[kind]:
        raise RPCError(11, f"too many {kind} calls in progress; try later")
    in_flight[kind] += 1
    try:
        return (await node.rpc("backend", body, timeout=3.0)).body
    finally:
        in_flight[kind] -= 1


@node.on("charge")
async def charge(msg):
    try:
        reply = await call("charge", {"type": "charge", "id": msg.body["id"], "amount": msg.body["amount"]})
    except RPCError as exc:
        return exc
    return {"type": "charge_ok", "receipt": reply["receipt"]}


@node.on("report")
async def report(msg):
    try:
        reply = await call("report", {"type": "report", "id": msg.body["id"]})
    except RPCError as exc:
        return exc
    return {"type": "report_ok", "receipt": reply["receipt"]}


if __name__ == "__main__":
    node.run()
