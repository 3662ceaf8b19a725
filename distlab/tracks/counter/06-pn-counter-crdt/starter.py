"""Counter CRDT: fill in the TODOs, then run `distlab check`."""

from distlab import Node

node = Node()
counts: dict[str, int] = {}  # node id -> that node's contribution


@node.on("add")
def add(msg):
    # TODO: add msg.body["delta"] to this node's own slot
    return {"type": "add_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sum(counts.values())}


@node.on("state")
def state(msg):
    pass  # TODO: merge msg.body into `counts` so that a state received twice changes nothing


def gossip_round() -> None:
    pass  # TODO: send {"type": "state", ...} to every peer


node.every(0.2, gossip_round)

if __name__ == "__main__":
    node.run()
