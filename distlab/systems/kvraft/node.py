"""kvraft: a linearizable key/value store (lin-kv's read, write, cas) on Raft.

Run: distlab test -w lin-kv --bin distlab/systems/kvraft/node.py --node-count 5 \
         --time-limit 30 --rate 50 --concurrency 2n --nemesis partition,kill,pause

The Raft core (distlab.systems.raft) is pure; this file is its runtime: a tick every
50 ms from `node.every`, Raft messages as `raft` bodies through `node.send`, and the
core's persistent state in `node.storage`, synced before any message that depends on
it goes out. Writes and cas go through the log and are applied exactly once per
(client, msg_id): the session table (last msg_id and its reply per client) is part of
the state machine and of its snapshots. Reads use ReadIndex at the leader (a majority
confirms leadership after the read arrives; no leases). A node that is not the leader
forwards the request to the one it knows and retries until it gets an answer; it
answers error 11 only when no copy of the request can have reached any log.

Arguments (after the file name):
  --stale-reads        the known-bad variant: serve reads from local state at once
  --mutants=a,b        switch on Raft mutants by name (distlab.systems.raft.MUTANTS)
  --snapshot-every=N   compact the log once N applied entries follow the snapshot (100)
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from distlab import Node, RPCError
from distlab.fail import fail_point
from distlab.systems.raft import (
    LEADER,
    Config,
    Entry,
    HardState,
    Message,
    NotLeader,
    Persisted,
    RaftCore,
    Ready,
    Snapshot,
)
from distlab.systems.raft.trace import Tracer, term_runs

TICK = 0.05  # seconds per Raft tick: election timeouts 0.5-1 s, heartbeats every 0.1 s
CLIENT_DEADLINE = 4.0  # give up (indefinitely) before the client's 5 s timeout
FORWARD_TIMEOUT = 1.5
ATTEMPT_TIMEOUT = 1.0

TEMPORARILY_UNAVAILABLE = 11
KEY_DOES_NOT_EXIST = 20
PRECONDITION_FAILED = 22
DEFINITE_RESULTS = (KEY_DOES_NOT_EXIST, PRECONDITION_FAILED)


def _flag(name: str, default: str | None = None) -> str | None:
    for arg in sys.argv[1:]:
        if arg == name:
            return ""
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


STALE_READS = _flag("--stale-reads") is not None
MUTANTS = frozenset(m for m in (_flag("--mutants") or "").split(",") if m)
SNAPSHOT_EVERY = int(_flag("--snapshot-every") or 100)

node = Node()
trace = Tracer(node.log)  # raft {...} lines: the run's logs are checked for Raft safety


class KVRaft:
    """One replica: the Raft core, the key/value state machine and the waiting requests."""

    def __init__(self) -> None:
        st = node.storage
        hard = st.get("raft/hard") or {}
        snap = st.get("raft/snap")
        snapshot = Snapshot(*snap) if snap else None
        first = snapshot.index + 1 if snapshot else 1
        entries: list[Entry] = []
        for i in range(first, st.get("raft/last", 0) + 1):
            rec = st.get(f"raft/log/{i}")
            # A torn write can leave a new entry before old ones: terms must not go down.
            floor = entries[-1].term if entries else (snapshot.term if snapshot else 0)
            if rec is None or rec[0] < floor:
                break
            entries.append(Entry(i, rec[0], rec[1]))
        self.stored_first = first
        self.stored_last = first - 1 + len(entries)
        self.core = RaftCore(
            node.id,  # type: ignore[arg-type]
            node.node_ids,
            node.random,
            Config(mutants=MUTANTS),
            Persisted(HardState(hard.get("term", 0), hard.get("vote")), snapshot, entries),
        )
        self.kv: dict[Any, Any] = {}
        self.sessions: dict[str, list[Any]] = {}  # client -> [last msg_id, its reply]
        if snapshot is not None:
            self.restore(snapshot.data)
            trace.restore(snapshot.index, snapshot.term)
        self.results: dict[tuple[str, int], list[asyncio.Future[dict[str, Any]]]] = {}
        self.reads: dict[int, asyncio.Future[int | None]] = {}
        self.next_read = 0
        self.role = self.core.role

    # ----- driving the core -----------------------------------------------------------
    def pump(self) -> None:
        """Handle every Ready batch: persist + sync, then send, then apply, then advance."""
        core = self.core
        while core.has_ready():
            rd = core.ready()
            self.persist(rd)
            if rd.entries:
                fail_point("raft::after_append")
            for m in rd.messages:
                node.send(m.dest, {"type": "raft", "m": m.to_dict()})
            if rd.restore is not None:
                self.restore(rd.restore.data)
                trace.restore(rd.restore.index, rd.restore.term)
            for entry in rd.committed:
                fail_point("raft::before_apply")
                self.apply(entry)
                trace.apply(entry.index, entry.term, entry.command)
            for rs in rd.read_states:
                fut = self.reads.pop(rs.ctx, None)
                if fut is not None and not fut.done():
                    fut.set_result(rs.index)
            for ctx in rd.dropped_reads:
                fut = self.reads.pop(ctx, None)
                if fut is not None and not fut.done():
                    fut.set_result(None)
            core.advance(rd)
            if core.applied - core.log.snapshot_index >= SNAPSHOT_EVERY:
                core.compact(core.applied, self.snapshot())
        if core.role != self.role:
            self.role = core.role
            node.log(f"now {core.role} in term {core.term}")
            if core.role == LEADER:
                log = core.log
                terms = [e.term for e in log.slice(log.snapshot_index + 1, log.last_index + 1)]
                trace.leader(core.term, log.last_index,
                             term_runs(log.snapshot_index, log.snapshot.term, terms))

    def persist(self, rd: Ready) -> None:
        """Write the batch's stable state; sync once, before any message leaves."""
        if rd.entries or rd.hard_state is not None or rd.snapshot is not None or rd.last_index is not None:
            fail_point("raft::before_persist")
        st = node.storage
        if rd.snapshot is not None:
            s = rd.snapshot
            st["raft/snap"] = [s.index, s.term, s.data]
            for i in range(self.stored_first, min(s.index, self.stored_last) + 1):
                if f"raft/log/{i}" in st:
                    del st[f"raft/log/{i}"]
            self.stored_first = s.index + 1
            self.stored_last = max(self.stored_last, s.index)
        for e in rd.entries:
            st[f"raft/log/{e.index}"] = [e.term, e.command]
        if rd.last_index is not None:
            for i in range(max(rd.last_index + 1, self.stored_first), self.stored_last + 1):
                if f"raft/log/{i}" in st:
                    del st[f"raft/log/{i}"]
            st["raft/last"] = rd.last_index
            self.stored_last = rd.last_index
        if rd.hard_state is not None:
            st["raft/hard"] = {"term": rd.hard_state.term, "vote": rd.hard_state.vote}
        if st.dirty:
            st.sync()

    # ----- the state machine ----------------------------------------------------------
    def apply(self, entry: Entry) -> None:
        """Apply one committed command exactly once per (client, msg_id)."""
        cmd = entry.command
        if cmd is None:
            return  # a leader's no-op
        client, mid = cmd["c"], cmd["id"]
        session = self.sessions.get(client)
        if session is not None and session[0] >= mid:
            result = session[1] if session[0] == mid else None
        else:
            result = self.execute(cmd)
            self.sessions[client] = [mid, result]
            fail_point("kvraft::after_apply")
        for fut in self.results.pop((client, mid), []):
            if not fut.done() and result is not None:
                fut.set_result(result)

    def execute(self, cmd: dict[str, Any]) -> dict[str, Any]:
        key = cmd["k"]
        if cmd["op"] == "write":
            self.kv[key] = cmd["v"]
            return {"type": "write_ok"}
        if key not in self.kv:
            return _error(KEY_DOES_NOT_EXIST, f"key {key} does not exist")
        if self.kv[key] != cmd["f"]:
            return _error(PRECONDITION_FAILED, f"expected {cmd['f']}, have {self.kv[key]}")
        self.kv[key] = cmd["t"]
        return {"type": "cas_ok"}

    def read_local(self, key: Any) -> dict[str, Any]:
        if key not in self.kv:
            return _error(KEY_DOES_NOT_EXIST, f"key {key} does not exist")
        return {"type": "read_ok", "value": self.kv[key]}

    def snapshot(self) -> dict[str, Any]:
        # copies: the Raft core keeps this object and sends it to followers that lag behind,
        # so it must not change as later commands apply (a session table ahead of the data
        # would make a follower that installs it skip commands it never applied)
        return {"kv": [[k, v] for k, v in self.kv.items()],
                "sessions": {c: list(s) for c, s in self.sessions.items()}}

    def restore(self, data: dict[str, Any] | None) -> None:
        data = data or {}
        self.kv = {k: v for k, v in data.get("kv", [])}
        self.sessions = {c: list(s) for c, s in data.get("sessions", {}).items()}

    # ----- requests -------------------------------------------------------------------
    async def attempt(self, cmd: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """One try at the leader: a reply, or None (timed out or lost leadership)."""
        loop = asyncio.get_running_loop()
        if cmd["op"] == "read":
            ctx = self.next_read = self.next_read + 1
            fut_index: asyncio.Future[int | None] = loop.create_future()
            self.reads[ctx] = fut_index
            self.core.read_index(ctx)
            self.pump()
            try:
                index = await asyncio.wait_for(fut_index, timeout)
            except TimeoutError:
                self.reads.pop(ctx, None)
                return None
            if index is None or self.core.applied < index:
                return None
            return self.read_local(cmd["k"])
        key = (cmd["c"], cmd["id"])
        session = self.sessions.get(cmd["c"])
        if session is not None and session[0] == cmd["id"]:
            return session[1]  # already applied: answer from the session table
        fut: asyncio.Future[dict[str, Any]] = loop.create_future()
        self.results.setdefault(key, []).append(fut)
        self.core.propose(cmd)
        self.pump()
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            waiting = self.results.get(key, [])
            if fut in waiting:
                waiting.remove(fut)
                if not waiting:
                    del self.results[key]
            return None

    async def submit(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Serve a client request here or at the leader, until answered or the deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CLIENT_DEADLINE
        sent = False  # once a copy may be in some log, only an indefinite error is honest
        while (remaining := deadline - loop.time()) > 0:
            core = self.core
            if core.role == LEADER:
                sent = True
                reply = await self.attempt(cmd, min(ATTEMPT_TIMEOUT, remaining))
                if reply is not None:
                    return _raise_error(reply)
                continue
            leader = core.leader_id
            if leader is None or leader == node.id:
                await asyncio.sleep(min(0.1, remaining))
                continue
            sent = True
            try:
                reply_msg = await node.rpc(leader, {"type": "kv_forward", "cmd": cmd},
                                           timeout=min(FORWARD_TIMEOUT, remaining))
            except RPCError as exc:
                if exc.code in DEFINITE_RESULTS:
                    raise
                await asyncio.sleep(min(0.05, max(0.0, deadline - loop.time())))
                continue
            return {k: v for k, v in reply_msg.body.items() if k != "in_reply_to"}
        if not sent or cmd["op"] == "read":
            raise RPCError(TEMPORARILY_UNAVAILABLE, "no leader")
        raise RPCError(0, "no answer from the cluster in time; the operation may still happen")

    async def forwarded(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """A request forwarded by another node: one attempt here, if still the leader."""
        if self.core.role != LEADER:
            raise RPCError(TEMPORARILY_UNAVAILABLE, f"not the leader (try {self.core.leader_id})")
        try:
            reply = await self.attempt(cmd, ATTEMPT_TIMEOUT)
        except NotLeader:
            reply = None
        if reply is None:
            raise RPCError(0, "not applied in time here")
        return _raise_error(reply)


def _error(code: int, text: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "text": text}


def _raise_error(reply: dict[str, Any]) -> dict[str, Any]:
    if reply.get("type") == "error":
        raise RPCError(reply["code"], reply.get("text", ""))
    return reply


server: KVRaft | None = None


@node.on("init")
def start(msg: Any) -> None:
    global server
    server = KVRaft()


@node.on("raft")
def on_raft(msg: Any) -> None:
    if server is None:
        return  # not initialised yet (restarting): the sender will retry
    server.core.step(Message.from_dict(msg.body["m"]))
    server.pump()


def tick() -> None:
    if server is not None:
        server.core.tick()
        server.pump()


node.every(TICK, tick)


async def client_request(msg: Any) -> dict[str, Any]:
    if server is None:
        raise RPCError(TEMPORARILY_UNAVAILABLE, "starting")
    body = msg.body
    if body["type"] == "read":
        if STALE_READS:
            return _raise_error(server.read_local(body["key"]))
        cmd: dict[str, Any] = {"op": "read", "k": body["key"]}
    elif body["type"] == "write":
        cmd = {"op": "write", "k": body["key"], "v": body["value"]}
    else:
        cmd = {"op": "cas", "k": body["key"], "f": body["from"], "t": body["to"]}
    if cmd["op"] != "read":
        cmd.update(c=msg.src, id=body["msg_id"])
    return await server.submit(cmd)


for _kind in ("read", "write", "cas"):
    node.on(_kind)(client_request)


@node.on("kv_forward")
async def kv_forward(msg: Any) -> dict[str, Any]:
    if server is None:
        raise RPCError(TEMPORARILY_UNAVAILABLE, "starting")
    return await server.forwarded(msg.body["cmd"])


@node.on("raft_status")
def raft_status(msg: Any) -> dict[str, Any]:
    """Term, role, leader and log positions, for observers and testers."""
    if server is None:
        raise RPCError(TEMPORARILY_UNAVAILABLE, "starting")
    return {"type": "raft_status_ok", **server.core.status()}


if __name__ == "__main__":
    node.run()
