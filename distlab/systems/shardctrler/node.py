"""shardctrler: the shard controller (6.824 lab 4A) as a replicated state machine on Raft.

Run: python -m distlab.systems.shardctrler.lab --list, or see tests/test_shardctrler.py.

The runtime is kvraft's (RaftHost, distlab/systems/raft/host.py): the pure Raft core ticked every
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
from distlab.systems.raft import LEADER, Entry, Message, NotLeader
from distlab.systems.raft.host import RaftHost
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


class ShardCtrler(RaftHost):
    """One replica: the Raft core (hosted by RaftHost), the configurations, the sessions,
    waiting requests."""

    def __init__(self) -> None:
        super().__init__(node, node.node_ids, snapshot_every=SNAPSHOT_EVERY)
        self.ctl = Controller(NSHARDS, MUTANT, node.random)
        self.sessions: dict[str, list[Any]] = {}  # clerk -> [last seq applied, its reply]
        self.restore_loaded()
        self.results: dict[tuple[str, int], list[asyncio.Future[dict[str, Any]]]] = {}

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
