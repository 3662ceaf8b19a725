"""shardctrler: the shard controller (6.824 lab 4A) as a replicated state machine on Raft.

Run: python -m distlab.systems.shardctrler.lab --list, or see tests/test_shardctrler.py.

The runtime is kvraft's (distlab/systems/kvraft/node.py): the pure Raft core ticked every
50 ms, Raft messages as `raft` bodies, the core's state in `node.storage` synced before
any message that depends on it leaves, snapshots every N applied entries, and requests
at a follower forwarded to the leader. The state machine is the list of configurations
(distlab/systems/shardctrler/rebalance.py: `Controller`).

Requests (JSON bodies) and replies:
  join  {"groups": {"<gid>": ["server", ...], ...}}   -> join_ok
  leave {"gids": [gid, ...]}                           -> leave_ok
  move  {"shard": s, "gid": g}                         -> move_ok
  query {"num": n}  (-1, or past the latest: latest)   -> query_ok {"config":
        {"num": n, "shards": [gid x 10], "groups": {"<gid>": [server, ...]}}}
join, leave and move may carry "client" (a clerk's id) and "seq" (its request number,
increasing): a clerk retrying a request at another server with the same pair gets it
applied once (6.824's duplicate detection). Without them, the sender and msg_id are used.
Queries are linearizable reads (ReadIndex at the leader), not log entries.

Arguments (after the file name):
  --mutant=rebuild      known-bad: rebalance by dealing every shard anew (moves too many)
  --mutant=random-ties  known-bad: break rebalancing ties at random (replicas disagree)
  --mutant=no-sessions  known-bad: no duplicate detection (a retried join applies twice)
  --snapshot-every=N    compact the log once N applied entries follow the snapshot (20)
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from distlab import Node, RPCError
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
from distlab.systems.shardctrler.rebalance import NSHARDS, Controller, to_wire

TICK = 0.05
CLIENT_DEADLINE = 4.0
FORWARD_TIMEOUT = 1.5
ATTEMPT_TIMEOUT = 1.0

MALFORMED = 12
TEMPORARILY_UNAVAILABLE = 11


def _flag(name: str, default: str | None = None) -> str | None:
    for arg in sys.argv[1:]:
        if arg == name:
            return ""
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


MUTANT = _flag("--mutant") or ""
SNAPSHOT_EVERY = int(_flag("--snapshot-every") or 20)

node = Node()
trace = Tracer(node.log)


class ShardCtrler:
    """One replica: the Raft core, the configurations, the sessions, waiting requests."""

    def __init__(self) -> None:
        st = node.storage
        hard = st.get("raft/hard") or {}
        snap = st.get("raft/snap")
        snapshot = Snapshot(*snap) if snap else None
        first = snapshot.index + 1 if snapshot else 1
        entries: list[Entry] = []
        for i in range(first, st.get("raft/last", 0) + 1):
            rec = st.get(f"raft/log/{i}")
            floor = entries[-1].term if entries else (snapshot.term if snapshot else 0)
            if rec is None or rec[0] < floor:
                break  # a torn write: keep the prefix whose terms never go down
            entries.append(Entry(i, rec[0], rec[1]))
        self.stored_first = first
        self.stored_last = first - 1 + len(entries)
        self.core = RaftCore(
            node.id,  # type: ignore[arg-type]
            node.node_ids,
            node.random,
            Config(),
            Persisted(HardState(hard.get("term", 0), hard.get("vote")), snapshot, entries),
        )
        self.ctl = Controller(NSHARDS, MUTANT, node.random)
        self.sessions: dict[str, list[Any]] = {}  # clerk -> [last seq applied, its reply]
        if snapshot is not None:
            self.restore(snapshot.data)
            trace.restore(snapshot.index, snapshot.term)
        self.results: dict[tuple[str, int], list[asyncio.Future[dict[str, Any]]]] = {}
        self.reads: dict[int, asyncio.Future[int | None]] = {}
        self.next_read = 0
        self.role = self.core.role

    # ----- driving the core (as kvraft) --------------------------------------------------
    def pump(self) -> None:
        core = self.core
        while core.has_ready():
            rd = core.ready()
            self.persist(rd)
            for m in rd.messages:
                node.send(m.dest, {"type": "raft", "m": m.to_dict()})
            if rd.restore is not None:
                self.restore(rd.restore.data)
                trace.restore(rd.restore.index, rd.restore.term)
            for entry in rd.committed:
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

    # ----- the state machine -------------------------------------------------------------
    def apply(self, entry: Entry) -> None:
        """Apply one committed command once per (clerk, seq); answer whoever waits."""
        cmd = entry.command
        if cmd is None:
            return
        client, seq = cmd["c"], cmd["id"]
        session = self.sessions.get(client) if MUTANT != "no-sessions" else None
        if session is not None and session[0] >= seq:
            result = session[1] if session[0] == seq else None
        else:
            result = self.ctl.apply(cmd)
            self.sessions[client] = [seq, result]
        for fut in self.results.pop((client, seq), []):
            if not fut.done() and result is not None:
                fut.set_result(result)

    def snapshot(self) -> dict[str, Any]:
        # copies, as kvraft's: the Raft core keeps the snapshot to send to lagging followers
        return {"configs": self.ctl.snapshot(), "sessions": {c: list(s) for c, s in self.sessions.items()}}

    def restore(self, data: dict[str, Any] | None) -> None:
        data = data or {}
        if "configs" in data:
            self.ctl.restore(data["configs"])
        self.sessions = {c: list(s) for c, s in data.get("sessions", {}).items()}

    # ----- requests ----------------------------------------------------------------------
    async def attempt(self, cmd: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """One try at the leader: a reply, or None (timed out or lost leadership)."""
        loop = asyncio.get_running_loop()
        if cmd["op"] == "query":
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
            return {"type": "query_ok", "config": to_wire(self.ctl.query(int(cmd["num"])))}
        key = (cmd["c"], cmd["id"])
        session = self.sessions.get(cmd["c"]) if MUTANT != "no-sessions" else None
        if session is not None and session[0] == cmd["id"]:
            return session[1]
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
        """Serve a request here or at the leader, until answered or the deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CLIENT_DEADLINE
        sent = False
        while (remaining := deadline - loop.time()) > 0:
            core = self.core
            if core.role == LEADER:
                sent = True
                try:
                    reply = await self.attempt(cmd, min(ATTEMPT_TIMEOUT, remaining))
                except NotLeader:
                    reply = None
                if reply is not None:
                    return reply
                continue
            leader = core.leader_id
            if leader is None or leader == node.id:
                await asyncio.sleep(min(0.1, remaining))
                continue
            sent = True
            try:
                reply_msg = await node.rpc(leader, {"type": "ctl_forward", "cmd": cmd},
                                           timeout=min(FORWARD_TIMEOUT, remaining))
            except RPCError:
                await asyncio.sleep(min(0.05, max(0.0, deadline - loop.time())))
                continue
            return {k: v for k, v in reply_msg.body.items() if k != "in_reply_to"}
        if not sent or cmd["op"] == "query":
            raise RPCError(TEMPORARILY_UNAVAILABLE, "no leader")
        raise RPCError(0, "no answer from the cluster in time; the request may still apply")

    async def forwarded(self, cmd: dict[str, Any]) -> dict[str, Any]:
        if self.core.role != LEADER:
            raise RPCError(TEMPORARILY_UNAVAILABLE, f"not the leader (try {self.core.leader_id})")
        try:
            reply = await self.attempt(cmd, ATTEMPT_TIMEOUT)
        except NotLeader:
            reply = None
        if reply is None:
            raise RPCError(0, "not applied in time here")
        return reply


def command(msg: Any) -> dict[str, Any]:
    """The log command for a client request, checked before it can reach any log."""
    body = msg.body
    kind = body["type"]
    try:
        if kind == "query":
            return {"op": "query", "num": int(body.get("num", -1))}
        if kind == "join":
            groups = {str(int(g)): [str(s) for s in servers] for g, servers in body["groups"].items()}
            if not groups or any(int(g) <= 0 for g in groups):
                raise ValueError("join needs at least one group, every gid > 0")
            cmd: dict[str, Any] = {"op": "join", "groups": groups}
        elif kind == "leave":
            cmd = {"op": "leave", "gids": [int(g) for g in body["gids"]]}
        else:
            shard, gid = int(body["shard"]), int(body["gid"])
            if not 0 <= shard < NSHARDS:
                raise ValueError(f"shard {shard} is not in 0..{NSHARDS - 1}")
            cmd = {"op": "move", "shard": shard, "gid": gid}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RPCError(MALFORMED, f"bad {kind} request: {exc}") from None
    cmd.update(c=str(body.get("client", msg.src)), id=int(body.get("seq", body["msg_id"])))
    return cmd


server: ShardCtrler | None = None


@node.on("init")
def start(msg: Any) -> None:
    global server
    server = ShardCtrler()


@node.on("raft")
def on_raft(msg: Any) -> None:
    if server is None:
        return
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
    return await server.submit(command(msg))


for _kind in ("join", "leave", "move", "query"):
    node.on(_kind)(client_request)


@node.on("ctl_forward")
async def ctl_forward(msg: Any) -> dict[str, Any]:
    if server is None:
        raise RPCError(TEMPORARILY_UNAVAILABLE, "starting")
    return await server.forwarded(msg.body["cmd"])


@node.on("raft_status")
def raft_status(msg: Any) -> dict[str, Any]:
    if server is None:
        raise RPCError(TEMPORARILY_UNAVAILABLE, "starting")
    return {"type": "raft_status_ok", **server.core.status()}


if __name__ == "__main__":
    node.run()
