"""A sharded key/value cluster in one file: the controller's servers and the replica groups.

Which part a node plays comes from `--layout` (given by the grader):
  --layout=ctl=m0,m1,m2;100=g100-0,g100-1,g100-2;101=...
"ctl" names the controller's servers (your controller node from the earlier tasks);
every other entry is a replica group: its gid and its servers, a Raft group of their own.
The Raft wiring is here, for both parts; the services are yours. Until you fill in the
TODOs every request is answered "not supported" (error 10).
"""

from __future__ import annotations

import sys
from typing import Any

from distlab import Node, RPCError
from distlab.systems.raft import Entry, HardState, Message, Persisted, RaftCore, Snapshot

NOT_SUPPORTED = 10
TEMPORARILY_UNAVAILABLE = 11
WRONG_GROUP = 1001
NSHARDS = 10

node = Node()
raft: RaftCore | None = None
role = ""  # "ctl" or the gid (as a string) of this node's replica group


def layout() -> dict[str, list[str]]:
    """`--layout=ctl=m0,m1;100=a0,a1` -> {"ctl": ["m0", "m1"], "100": ["a0", "a1"]}."""
    text = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--layout=")), "")
    out: dict[str, list[str]] = {}
    for part in text.split(";"):
        name, _, servers = part.partition("=")
        if name.strip():
            out[name.strip()] = [s for s in servers.split(",") if s]
    return out


def key2shard(key: Any) -> int:
    """TODO: your key2shard from the first task."""
    return 0


def load() -> Persisted:
    st = node.storage
    hard = st.get("hard") or {}
    snap = st.get("snap")
    entries = [Entry(i, t, c) for i, t, c in st.get("log", [])]
    return Persisted(HardState(hard.get("term", 0), hard.get("vote")),
                     Snapshot(*snap) if snap else None, entries)


def store(rd: Any) -> None:
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
    """TODO: the controller's commands (role "ctl") or the group's: client requests,
    new configurations, shards received, shards deleted."""


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
    """Join this node's Raft group: the controller's servers, or its replica group's."""
    global raft, role
    for name, servers in layout().items():
        if node.id in servers:
            role = name
            raft = RaftCore(node.id, servers, node.random, None, load())  # type: ignore[arg-type]


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


async def request(msg: Any) -> dict[str, Any]:
    """TODO: controller servers: join/leave/move/query. Group servers: read/write/cas of a
    key in a shard this group serves (else error 1001), through the group's log."""
    raise RPCError(NOT_SUPPORTED, "not written yet")


for _kind in ("join", "leave", "move", "query", "read", "write", "cas"):
    node.on(_kind)(request)

if __name__ == "__main__":
    node.run()
