"""The client-request path of a service on RaftHost, shared by kvraft, the shard controller
and shardkv's groups: one place for what a request goes through, so a fix to it reaches
all three.

A request is served where the leader is. ``submit`` tries at this node while it leads
(``attempt``) and otherwise forwards the request to the leader it knows (a ``FORWARD``
RPC, answered by ``forwarded``), until an answer or ``CLIENT_DEADLINE``. An attempt reads
after a ReadIndex barrier (``read_barrier``) or proposes the command and waits on a future
keyed by (client, id) that ``answer`` completes when the entry applies. Once a copy of a
request may be in some log, only an indefinite error (code 0) is honest: it may still
apply; before that, or for a read, error 11 says it did not happen.

What a service supplies: ``read(cmd)`` (a read's reply from local state), and where it
differs from the defaults ``is_read``, ``precheck`` (a reply without proposing: the
session's last answer, a wrong-group error), ``definite`` (which error codes of a
forwarded request are final), ``FORWARD``, ``READS`` and ``LATE``. Its ``apply`` calls
``answer(key, result)``; ``apply_once`` is the session table's exactly-once rule.

``serve_raft`` registers the handlers every such node has: Raft messages, the tick,
forwarded requests and ``raft_status``.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Callable
from typing import Any

from distlab import Node, RPCError
from distlab.protocol import TEMPORARILY_UNAVAILABLE
from distlab.systems.raft import LEADER, Message, NotLeader
from distlab.systems.raft.host import RaftHost

Reply = dict[str, Any]


def apply_once(sessions: dict[str, list[Any]], cmd: dict[str, Any], execute: Callable[[dict[str, Any]], Reply],
               *, check: bool = True, then: Callable[[], None] | None = None) -> Reply | None:
    """Apply ``cmd`` at most once per (client ``c``, request ``id``): the session table
    holds each client's last id and its reply. A repeat of the last gets that reply again,
    an older one None (its client has moved on and waits for it no more); a new one is
    executed, recorded, then ``then`` runs. ``check=False`` is the known-bad variant that
    records sessions but never looks at them."""
    client, seq = cmd["c"], cmd["id"]
    session = sessions.get(client) if check else None
    if session is not None and session[0] >= seq:
        return session[1] if session[0] == seq else None  # type: ignore[no-any-return]
    result = execute(cmd)
    sessions[client] = [seq, result]
    if then is not None:
        then()
    return result


def last_reply(sessions: dict[str, list[Any]], cmd: dict[str, Any]) -> Reply | None:
    """The reply already given to this very request, if it was its client's last applied."""
    session = sessions.get(cmd["c"])
    return session[1] if session is not None and session[0] == cmd["id"] else None  # type: ignore[no-any-return]


def raise_error(reply: Reply) -> Reply:
    """An error reply as the RPCError the handler raises; any other reply as it is."""
    if reply.get("type") == "error":
        raise RPCError(reply["code"], reply.get("text", ""))
    return reply


class RaftService(RaftHost):
    """RaftHost plus the client-request path; see the module's docstring."""

    FORWARD = "forward"  # the message type of a request forwarded to the leader
    READS: tuple[str, ...] = ("read",)  # ops that change nothing: error 11 is honest for them
    LATE = "no answer from the cluster in time; the operation may still happen"
    CLIENT_DEADLINE = 4.0  # give up (indefinitely) before a client's 5 s timeout
    FORWARD_TIMEOUT = 1.5
    ATTEMPT_TIMEOUT = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.results: dict[Any, list[asyncio.Future[Reply]]] = {}  # (client, id) -> waiting

    # ----- what a service supplies --------------------------------------------------------
    @abstractmethod
    def read(self, cmd: dict[str, Any]) -> Reply:
        """A read's reply from local state, once the ReadIndex barrier has passed."""

    def is_read(self, cmd: dict[str, Any]) -> bool:
        """Served by a ReadIndex barrier and local state rather than through the log."""
        return cmd["op"] in self.READS

    def precheck(self, cmd: dict[str, Any]) -> Reply | None:
        """A reply without proposing (already applied, not ours to serve), or None."""
        return None

    def definite(self, code: int) -> bool:
        """Whether the leader's error code for a forwarded request is the answer, rather
        than a reason to try again."""
        return False

    # ----- the request path -----------------------------------------------------------------
    def answer(self, key: Any, result: Reply | None) -> None:
        """Complete whoever waits on ``key`` (from ``apply``); None answers no one."""
        for fut in self.results.pop(key, []):
            if not fut.done() and result is not None:
                fut.set_result(result)

    async def attempt(self, cmd: dict[str, Any], timeout: float) -> Reply | None:
        """One try at the leader: a reply, or None (timed out or lost leadership)."""
        if self.is_read(cmd):
            if not await self.read_barrier(timeout):
                return None
            return self.read(cmd)
        early = self.precheck(cmd)
        if early is not None:
            return early
        key = (cmd["c"], cmd["id"])
        fut: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
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

    async def submit(self, cmd: dict[str, Any]) -> Reply:
        """Serve a client request here or at the leader, until answered or the deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.CLIENT_DEADLINE
        sent = False  # once a copy may be in some log, only an indefinite error is honest
        while (remaining := deadline - loop.time()) > 0:
            core = self.core
            if core.role == LEADER:
                sent = True
                try:
                    reply = await self.attempt(cmd, min(self.ATTEMPT_TIMEOUT, remaining))
                except NotLeader:
                    reply = None
                if reply is not None:
                    return raise_error(reply)
                continue
            leader = core.leader_id
            if leader is None or leader == self.node.id:
                await asyncio.sleep(min(0.1, remaining))
                continue
            sent = True
            try:
                reply_msg = await self.node.rpc(leader, {"type": self.FORWARD, "cmd": cmd},
                                                timeout=min(self.FORWARD_TIMEOUT, remaining))
            except RPCError as exc:
                if self.definite(exc.code):
                    raise
                await asyncio.sleep(min(0.05, max(0.0, deadline - loop.time())))
                continue
            return {k: v for k, v in reply_msg.body.items() if k != "in_reply_to"}
        if not sent or cmd["op"] in self.READS:
            raise RPCError(TEMPORARILY_UNAVAILABLE, "no leader")
        raise RPCError(0, self.LATE)

    async def forwarded(self, cmd: dict[str, Any]) -> Reply:
        """A request forwarded by another node: one attempt here, if still the leader."""
        if self.core.role != LEADER:
            raise RPCError(TEMPORARILY_UNAVAILABLE, f"not the leader (try {self.core.leader_id})")
        try:
            reply = await self.attempt(cmd, self.ATTEMPT_TIMEOUT)
        except NotLeader:
            reply = None
        if reply is None:
            raise RPCError(0, "not applied in time here")
        return raise_error(reply)


def ready(service: RaftService | None) -> RaftService:
    """The node's service, or error 11 while it is starting (not initialised yet)."""
    if service is None:
        raise RPCError(TEMPORARILY_UNAVAILABLE, "starting")
    return service


def serve_raft(node: Node, current: Callable[[], RaftService | None], *, tick: float, forward: str) -> None:
    """Register what every node of a RaftService answers alike: ``raft`` messages, a tick
    every ``tick`` seconds, requests forwarded to it (message type ``forward``) and
    ``raft_status``. ``current()`` is the node's service, None until init."""

    def on_raft(msg: Any) -> None:
        service = current()
        if service is None:
            return  # not initialised yet (restarting): the sender will retry
        service.core.step(Message.from_dict(msg.body["m"]))
        service.pump()

    def on_tick() -> None:
        service = current()
        if service is not None:
            service.core.tick()
            service.pump()

    async def on_forward(msg: Any) -> Reply:
        return await ready(current()).forwarded(msg.body["cmd"])

    def raft_status(msg: Any) -> Reply:
        """Term, role, leader and log positions, for observers and testers."""
        return {"type": "raft_status_ok", **ready(current()).core.status()}

    node.on("raft")(on_raft)
    node.every(tick, on_tick)
    node.on(forward)(on_forward)
    node.on("raft_status")(raft_status)
