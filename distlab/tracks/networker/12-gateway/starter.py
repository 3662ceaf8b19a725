"""Networker 12: a production call path. Bring together what tasks 3 to 8 built."""

from distlab import Node, RPCError

node = Node()


@node.on("charge")
async def charge(msg):
    # TODO, each piece from its task:
    # - a deadline from msg.body["budget_ms"]; send the backend what is left (task 6)
    # - the request's id as idempotency key, so timeouts can be retried (task 5)
    # - retries of timeouts and busy rejections with backoff, within the deadline
    # - a circuit breaker with a half-open probe around each call (tasks 7 and 8)
    # - answer code 0 when an attempt may have charged, 11 only when none can have
    body = {"type": "charge", "id": msg.body["id"], "amount": msg.body["amount"]}
    try:
        reply = await node.rpc("backend", body, timeout=0.5)
    except RPCError as exc:
        return exc
    return {"type": "charge_ok", "receipt": reply.body["receipt"]}


if __name__ == "__main__":
    node.run()
