"""kvraft: a linearizable key/value store (lin-kv's read, write, cas) on Raft.

Run: distlab test -w lin-kv --bin distlab/systems/kvraft/node.py --node-count 5 \
         --time-limit 30 --rate 50 --concurrency 2n --nemesis partition,kill,pause

The Raft core (distlab.systems.raft) is pure; its runtime is RaftHost
(distlab/systems/raft/host.py), shared with the other Raft systems: a tick every 50 ms
from `node.every`, Raft messages as `raft` bodies through `node.send`, and the core's
persistent state in `node.storage`, synced before any message that depends on it goes
out. Writes and cas go through the log and are applied exactly once per
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
from distlab.systems.raft import LEADER, Config, Entry, Message, NotLeader
from distlab.systems.raft.host import RaftHost

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


class KVRaft(RaftHost):
    """One replica: the Raft core (hosted by RaftHost), the key/value state machine and
    the waiting requests."""

    def __init__(self) -> None:
        super().__init__(node, node.node_ids, config=Config(mutants=MUTANTS), snapshot_every=SNAPSHOT_EVERY)
        self.kv: dict[Any, Any] = {}
        self.sessions: dict[str, list[Any]] = {}  # client -> [last msg_id, its reply]
        self.restore_loaded()
        self.results: dict[tuple[str, int], list[asyncio.Future[dict[str, Any]]]] = {}

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
