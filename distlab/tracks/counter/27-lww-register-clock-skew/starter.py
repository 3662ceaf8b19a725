"""LWW register under clock skew: start from your counter/lww-register node, fill in the TODOs, then run `distlab check`."""

from distlab import Node

node = Node()
latest: list = [0.0, 0]  # the highest [wall, logical] seen here
stamp: list = [0.0, 0, ""]  # [wall, logical, node id] of the value held
value = None


@node.on("write")
def write(msg):
    global value
    value = msg.body["value"]  # TODO: stamp it from node.now() and `latest`; keep the higher stamp
    return {"type": "write_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": value}


def gossip_round() -> None:
    pass  # TODO: send [stamp, value] to every peer


# TODO: handle the message your peers send: update `latest`, keep the higher stamp

node.every(0.25, gossip_round)

if __name__ == "__main__":
    node.run()
