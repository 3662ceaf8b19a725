"""LWW register: fill in the TODOs, then run `distlab check`."""

from distlab import Node

node = Node()
clock = 0
stamp: list = [0, ""]  # [counter, node id] of the value held
value = None


@node.on("write")
def write(msg):
    global value
    value = msg.body["value"]  # TODO: stamp it, and keep it only if it outranks the held stamp
    return {"type": "write_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": value}


def gossip_round() -> None:
    pass  # TODO: send [stamp, value] to every peer


# TODO: handle the message your peers send: advance the clock, keep the higher stamp

node.every(0.25, gossip_round)

if __name__ == "__main__":
    node.run()
