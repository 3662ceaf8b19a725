"""Elector 7, mutant: the bully of task 6, with a term that counts the leader changes this
node has seen. Each node counts its own, so "term 3" means different things on different
sides of a partition."""

from distlab import Node

node = Node()
INTERVAL = 0.1
TIMEOUT = 1.0
last_heard: dict[str, float] = {}
state = {"leader": None, "term": 0}


def rank(node_id: str) -> int:
    return int(node_id.lstrip("n"))


@node.on("init")
def init(msg):
    for peer in node.node_ids:
        last_heard[peer] = node.now()


def beat():
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "heartbeat"})


node.every(INTERVAL, beat)


@node.on("heartbeat")
def heartbeat(msg):
    last_heard[msg.src] = node.now()


@node.on("leader")
def leader(msg):
    now = node.now()
    alive = [p for p in node.node_ids if p == node.id or now - last_heard.get(p, now) <= TIMEOUT]
    best = max(alive, key=rank)
    if best != state["leader"]:
        state["leader"], state["term"] = best, state["term"] + 1
    return {"type": "leader_ok", "leader": best, "term": state["term"]}


if __name__ == "__main__":
    node.run()
