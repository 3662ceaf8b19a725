"""Elector 7: elections with terms and a majority. Fill in the vote rules."""

from distlab import Node

node = Node()
HEARTBEAT = 0.1
ELECTION_MIN, ELECTION_MAX = 1.0, 2.0

term = 0
voted_for: str | None = None
leader_id: str | None = None
role = "follower"
votes: set[str] = set()
deadline = 0.0
last_beat = 0.0


def reset_timer() -> None:
    global deadline
    deadline = node.now() + node.random.uniform(ELECTION_MIN, ELECTION_MAX)


def broadcast(body: dict) -> None:
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, body)


@node.on("init")
def init(msg):
    reset_timer()


def tick():
    global term, voted_for, role, leader_id, last_beat
    now = node.now()
    if role == "leader":
        if now - last_beat >= HEARTBEAT:
            last_beat = now
            broadcast({"type": "beat", "term": term})
    elif now >= deadline:
        term += 1
        role, voted_for, leader_id = "candidate", node.id, None
        votes.clear()
        votes.add(node.id)
        reset_timer()
        broadcast({"type": "vote_request", "term": term})


node.every(0.02, tick)


@node.on("vote_request")
def vote_request(msg):
    # TODO: a higher term: adopt it (follower, no vote cast yet). Grant the vote only for
    # the current term, and only if you have not voted for someone else in it.
    node.send(msg.src, {"type": "vote", "term": term, "granted": False})


@node.on("vote")
def vote(msg):
    # TODO: count granted votes for the current term; a majority makes you leader.
    pass


@node.on("beat")
def beat(msg):
    global leader_id, role
    if msg.body["term"] < term:
        return
    # TODO: a higher term must be adopted too.
    role, leader_id = "follower", msg.src
    reset_timer()


@node.on("leader")
def leader(msg):
    return {"type": "leader_ok", "leader": leader_id, "term": term}


if __name__ == "__main__":
    node.run()
