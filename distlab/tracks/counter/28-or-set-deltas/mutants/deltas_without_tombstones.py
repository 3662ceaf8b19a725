"""Mistake: deltas and repairs carry tags but no tombstones: a remove stays on the node that took it."""


from distlab import Node

node = Node()
ROUND = 1.0
REPAIR_EVERY = 5
tags: dict[int, set[str]] = {}
tombstones: set[str] = set()
news_tags: dict[int, set[str]] = {}  # created here since the last round
news_tombstones: set[str] = set()
counter = 0
rounds = 0


@node.on("add")
def add(msg):
    global counter
    counter += 1
    tag = f"{node.id}:{counter}"
    tags.setdefault(msg.body["element"], set()).add(tag)
    news_tags.setdefault(msg.body["element"], set()).add(tag)
    return {"type": "add_ok"}


@node.on("remove")
def remove(msg):
    seen = tags.get(msg.body["element"], set()) - tombstones
    tombstones.update(seen)
    news_tombstones.update(seen)
    return {"type": "remove_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sorted(e for e, ts in tags.items() if ts - tombstones)}


@node.on("merge")
def merge(msg):
    for element, ts in msg.body["tags"]:
        tags.setdefault(element, set()).update(ts)
    tombstones.update(msg.body["tombstones"])


def state(t: dict[int, set[str]], tombs: set[str]) -> dict:
    return {"type": "merge", "tags": [[e, sorted(ts)] for e, ts in t.items()], "tombstones": sorted(tombs)}


def gossip_round() -> None:
    global rounds
    rounds += 1
    peers = [p for p in node.node_ids if p != node.id]
    if news_tags or news_tombstones:
        body = state(news_tags, set())
        for peer in peers:
            node.send(peer, body)
        news_tags.clear()
        news_tombstones.clear()
    if rounds % REPAIR_EVERY == 0 and tags:
        node.send(node.random.choice(peers), state(tags, set()))


node.every(ROUND, gossip_round)

if __name__ == "__main__":
    node.run()
