"""The shard controller as a replicated node: the Raft wiring is here, the controller is yours.

Raft runs inside the node: a tick every 50 ms, Raft messages travel as `raft` bodies, and
each Ready is handled in order (store, send, apply, advance), as in the KV on Raft track.
Until you fill in the TODOs every request is answered "not supported" (error 10).

Requests and replies (the clerks number join/leave/move with "client" and "seq"):
  join  {"groups": {"<gid>": ["server", ...]}, "client", "seq"}  -> join_ok
  leave {"gids": [gid, ...], "client", "seq"}                    -> leave_ok
  move  {"shard": s, "gid": g, "client", "seq"}                  -> move_ok
  query {"num": n}                                                -> query_ok {"config":
        {"num": n, "shards": [gid x 10], "groups": {"<gid>": ["server", ...]}}}
"""

from __future__ import annotations

from typing import Any

from distlab import Node, RPCError
from distlab.systems.raft import Entry, HardState, Message, Persisted, RaftCore, Snapshot

NOT_SUPPORTED = 10
TEMPORARILY_UNAVAILABLE = 11  # a follower's answer: the clerk tries the next server

node = Node()
raft: RaftCore | None = None
# TODO: paste your Controller (sharder/configurations) and keep one here; group ids
# travel as JSON object keys, that is as strings: convert them with int().


def load() -> Persisted:
    """What this node stored before it crashed (see store())."""
    st = node.storage
    hard = st.get("hard") or {}
    snap = st.get("snap")
    entries = [Entry(i, t, c) for i, t, c in st.get("log", [])]
    return Persisted(HardState(hard.get("term", 0), hard.get("vote")),
                     Snapshot(*snap) if snap else None, entries)


def store(rd: Any) -> None:
    """Store what the Ready asks for, and sync, before any of its messages leave."""
    st = node.storage
    log = [e for e in st.get("log", []) if rd.last_index is None or e[0] <= rd.last_index]
    log = [e for e in log if not rd.entries or e[0] < rd.entries[0].index]
    log += [[e.index, e.term, e.command] for e in rd.entries]
    if rd.snapshot is not None:
        s = rd.snapshot
        st["snap"] = [s.index, s.term, s.data]
        log = [e for e in log if e[0] > s.index]
    st["log"] = log
    if rd.hard_state is not None:
        st["hard"] = {"term": rd.hard_state.term, "vote": rd.hard_state.vote}
    st.sync()


def apply(entry: Entry) -> None:
    """TODO: run a committed join/leave/move on the controller, once per (client, seq),
    and wake the request waiting for it."""


def pump() -> None:
    assert raft is not None
    while raft.has_ready():
        rd = raft.ready()
        store(rd)
        for m in rd.messages:
            node.send(m.dest, {"type": "raft", "m": m.to_dict()})
        for entry in rd.committed:
            apply(entry)
        raft.advance(rd)


@node.on("init")
def start(msg: Any) -> None:
    global raft
    raft = RaftCore(node.id, node.node_ids, node.random, None, load())  # type: ignore[arg-type]


@node.on("raft")
def on_raft(msg: Any) -> None:
    if raft is not None:
        raft.step(Message.from_dict(msg.body["m"]))
        pump()


def tick() -> None:
    if raft is not None:
        raft.tick()
        pump()


node.every(0.05, tick)


async def client_request(msg: Any) -> dict[str, Any]:
    """TODO: put join/leave/move through the log (queries: ReadIndex, or the log too),
    wait until applied, answer join_ok / leave_ok / move_ok / query_ok."""
    raise RPCError(NOT_SUPPORTED, "not written yet")


for _kind in ("join", "leave", "move", "query"):
    node.on(_kind)(client_request)

if __name__ == "__main__":
    node.run()
