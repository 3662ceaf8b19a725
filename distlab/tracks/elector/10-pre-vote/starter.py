"""Elector 10: task 9's election with a pre-vote. Fill in the pre-vote rules."""

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
heard_leader = 0.0  # when this node last heard from the leader it follows


def save() -> None:
    """Term and vote, durable before anything that relies on them is sent."""
    node.storage["term"] = term
    node.storage["voted_for"] = voted_for
    node.storage.sync()


def reset_timer() -> None:
    global deadline
    deadline = node.now() + node.random.uniform(ELECTION_MIN, ELECTION_MAX)


def majority() -> int:
    return len(node.node_ids) // 2 + 1


def adopt(new_term: int) -> None:
    """A higher term always wins: follow it, with no vote cast in it yet."""
    global term, voted_for, leader_id, role
    term, voted_for, leader_id, role = new_term, None, None, "follower"
    save()


def broadcast(body: dict) -> None:
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, body)


@node.on("init")
def init(msg):
    global term, voted_for
    term = node.storage.get("term", 0)
    voted_for = node.storage.get("voted_for")
    reset_timer()


def tick():
    global term, voted_for, role, leader_id, last_beat
    now = node.now()
    if role == "leader":
        if now - last_beat >= HEARTBEAT:
            last_beat = now
            broadcast({"type": "beat", "term": term})
    elif now >= deadline:
        # First ask, without changing anything: "would you vote for me in the next term?"
        role = "precandidate"
        votes.clear()
        votes.add(node.id)
        reset_timer()
        broadcast({"type": "pre_vote", "term": term + 1})


def campaign():
    """A majority would vote for us: now run the real election, in the next term."""
    global term, voted_for, role, leader_id
    term += 1
    role, voted_for, leader_id = "candidate", node.id, None
    votes.clear()
    votes.add(node.id)
    save()
    reset_timer()
    broadcast({"type": "vote_request", "term": term})


node.every(0.02, tick)


def leader_is_alive() -> bool:
    """Whether this node has a leader it heard from within the shortest election timeout."""
    return role == "leader" or (leader_id is not None and node.now() - heard_leader < ELECTION_MIN)


@node.on("pre_vote")
def pre_vote(msg):
    # Nothing changes here: no term adopted, no vote cast. A node that still hears a
    # healthy leader says no, so a node back from a partition cannot start a real election.
    granted = False  # TODO: when would you vote for this node in that term?
    node.send(msg.src, {"type": "pre_vote_ok", "term": msg.body["term"], "granted": granted})


@node.on("pre_vote_ok")
def pre_vote_ok(msg):
    if role != "precandidate" or msg.body["term"] != term + 1 or not msg.body["granted"]:
        return
    # TODO: count the yeses; with a majority (yourself included), campaign().
    pass


@node.on("vote_request")
def vote_request(msg):
    global voted_for
    if msg.body["term"] > term:
        adopt(msg.body["term"])
    granted = msg.body["term"] == term and voted_for in (None, msg.src)
    if granted:
        voted_for = msg.src
        save()
        reset_timer()
    node.send(msg.src, {"type": "vote", "term": term, "granted": granted})


@node.on("vote")
def vote(msg):
    global role, leader_id, last_beat
    if msg.body["term"] > term:
        adopt(msg.body["term"])
        return
    if role != "candidate" or msg.body["term"] != term or not msg.body["granted"]:
        return
    votes.add(msg.src)
    if len(votes) >= majority():
        role, leader_id, last_beat = "leader", node.id, 0.0


@node.on("beat")
def beat(msg):
    global leader_id, role, heard_leader
    if msg.body["term"] < term:
        return
    if msg.body["term"] > term:
        adopt(msg.body["term"])
    role, leader_id, heard_leader = "follower", msg.src, node.now()
    reset_timer()


@node.on("leader")
def leader(msg):
    return {"type": "leader_ok", "leader": leader_id, "term": term}


if __name__ == "__main__":
    node.run()
