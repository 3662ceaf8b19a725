"""Elector 13: a leader lease from a majority, no lock service."""

import time

from distlab import Node

node = Node()
HEARTBEAT = 0.1
ELECTION_MIN, ELECTION_MAX = 1.0, 2.0
LEASE = 2.0    # a follower's promise not to vote, from when it hears a heartbeat
MARGIN = 0.2   # the leader stops claiming this much earlier (clock rate drift)

term = 0
voted_for: str | None = None
leader_id: str | None = None
role = "follower"
votes: set[str] = set()
deadline = 0.0
last_beat = 0.0
no_vote_until = 0.0
beat_seq = 0
beat_sent: dict[int, float] = {}   # beat number -> when the leader sent it
acked: dict[str, float] = {}       # follower -> send time of the newest beat it acknowledged


def clock() -> float:
    return time.monotonic()


def save() -> None:
    node.storage["term"] = term
    node.storage["voted_for"] = voted_for
    node.storage.sync()


def reset_timer() -> None:
    global deadline
    deadline = clock() + node.random.uniform(ELECTION_MIN, ELECTION_MAX)


def majority() -> int:
    return len(node.node_ids) // 2 + 1


def adopt(new_term: int) -> None:
    global term, voted_for, leader_id, role
    term, voted_for, leader_id, role = new_term, None, None, "follower"
    save()


def broadcast(body: dict) -> None:
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, body)


def lease_until() -> float:
    """The end of the leader's lease: a majority (itself included) has acknowledged a
    heartbeat sent at or after t, so the lease lasts until t + LEASE - MARGIN."""
    # TODO: the majority-th newest of: now (the leader itself) and the acked send times.
    return 0.0


@node.on("init")
def init(msg):
    global term, voted_for, no_vote_until
    term = node.storage.get("term", 0)
    voted_for = node.storage.get("voted_for")
    no_vote_until = clock() + LEASE  # promises made before a crash are forgotten: wait them out
    reset_timer()


def tick():
    global term, voted_for, role, leader_id, last_beat, beat_seq
    now = clock()
    if role == "leader":
        if now - last_beat >= HEARTBEAT:
            last_beat = now
            beat_seq += 1
            beat_sent[beat_seq] = now
            beat_sent.pop(beat_seq - 100, None)
            broadcast({"type": "beat", "term": term, "seq": beat_seq})
    elif now >= deadline:
        term += 1
        role, voted_for, leader_id = "candidate", node.id, None
        votes.clear()
        votes.add(node.id)
        save()
        reset_timer()
        broadcast({"type": "vote_request", "term": term})


node.every(0.02, tick)


@node.on("vote_request")
def vote_request(msg):
    global voted_for
    # TODO: while bound by a promise to the current leader (no_vote_until), refuse.
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
        acked.clear()
        beat_sent.clear()


@node.on("beat")
def beat(msg):
    global leader_id, role, no_vote_until
    if msg.body["term"] < term:
        return
    if msg.body["term"] > term:
        adopt(msg.body["term"])
    role, leader_id = "follower", msg.src
    # TODO: acknowledging a heartbeat is a promise: no vote for LEASE seconds from now.
    reset_timer()
    node.send(msg.src, {"type": "beat_ack", "term": term, "seq": msg.body["seq"]})


@node.on("beat_ack")
def beat_ack(msg):
    if role != "leader" or msg.body["term"] != term:
        return
    # TODO: remember, per follower, the send time of the newest beat it acknowledged.


@node.on("lease")
def lease(msg):
    holds = role == "leader" and clock() < lease_until()
    return {"type": "lease_ok", "holder": holds, "epoch": term if holds else None}


if __name__ == "__main__":
    node.run()
