"""Percolator over Raft groups: the layout, the replicated state machines, the group runtime.

A cluster of N >= 3 nodes (the ids the node sees at init, in the order given) is cut into
G = max(3, N // 3) groups of consecutive nodes, sizes differing by at most one (the first
groups take the extra nodes). The last group is the timestamp oracle, "T"; the others,
"A", "B", ..., each hold the keys whose hash (BLAKE2b) modulo G - 1 is their position. With 9
nodes: A = n0-n2, B = n3-n5, T = n6-n8; with 12, three data groups of 3 and T. Fewer than
9 nodes still run (groups of 1 or 2 nodes) but a group of fewer than 3 survives no fault.

Every node is a member of exactly one group and also a transaction client: whatever node
receives a `txn` runs Percolator's client (client.py) and routes each kv_* request to the
leader of the group owning the key (`Router`).

What each group replicates through its log (`Replica` drives distlab's pure RaftCore as
kvraft does: tick, persist + sync before sending, apply, snapshot every N entries):

* a data group: `DataMachine`, a percolator `Server` on a MemoryStorage. Every handler
  that may write (prewrite, commit, rollback, check-txn-status, resolve-lock) is a log
  entry, applied in log order on every replica; the handlers are deterministic (TTLs are
  judged by the request's current_ts, a TSO timestamp) and idempotent, so a request
  resent after a lost answer is harmless. Reads (kv_get, kv_scan) take a ReadIndex at the
  leader: no log entry, but still never a stale replica's answer.
* the oracle group: `TsoMachine`, only the oracle's *ceiling* (tso.py). The leader keeps
  an `Oracle` in memory, resumed from the replicated ceiling once it has applied an entry
  of its own term; a timestamp is handed out only when (1) the ceiling committed in the
  log is above its physical part and (2) a ReadIndex round confirmed leadership after it
  was drawn. (1) makes every later leader start above it, (2) keeps a deposed leader from
  handing out a smaller one after a newer leader has handed out a larger one.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from distlab import Node, RPCError
from distlab.systems.percolator.client import RequestLost, ResponseLost
from distlab.systems.percolator.server import Server
from distlab.systems.percolator.storage import CFS, MemoryStorage, Modify
from distlab.systems.percolator.tso import MemoryCeiling, Oracle, physical
from distlab.systems.raft import LEADER, Entry, Message, NotLeader
from distlab.systems.raft.host import RaftHost

TSO_GROUP = "T"
READS = frozenset({"kv_get", "kv_scan"})
WRITES = frozenset({"kv_prewrite", "kv_commit", "kv_batch_rollback", "kv_check_txn_status",
                    "kv_resolve_lock"})
MUTANTS = ("commit-without-log", "tso-no-ceiling", "stale-reads")
"""Known-bad variants: a data-group leader applies kv_commit to its own state without the
log (a new leader never heard of the commit); the oracle keeps no ceiling in the log (a
new leader starts from its own clock, so timestamps go back when that clock is behind);
reads served by any member from its own state, without ReadIndex (a lagging or cut-off
replica misses locks and commits)."""


# ----- layout ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Which nodes form which group, and which data group owns a key."""

    groups: dict[str, list[str]]

    @classmethod
    def of(cls, node_ids: list[str]) -> Layout:
        n = len(node_ids)
        if n < 3:
            raise ValueError(f"percolator over Raft needs at least 3 nodes (2 data groups and "
                             f"the oracle); got {n}")
        count = max(3, n // 3)
        size, extra = divmod(n, count)
        groups: dict[str, list[str]] = {}
        start = 0
        for g in range(count):
            end = start + size + (1 if g < extra else 0)
            name = TSO_GROUP if g == count - 1 else _data_name(g)
            groups[name] = list(node_ids[start:end])
            start = end
        return cls(groups)

    @property
    def data_groups(self) -> list[str]:
        return [g for g in self.groups if g != TSO_GROUP]

    def group_of_node(self, node_id: str) -> str:
        for name, members in self.groups.items():
            if node_id in members:
                return name
        raise KeyError(f"{node_id} is in no group")

    def group_of_key(self, key: str | bytes) -> str:
        raw = key.encode() if isinstance(key, str) else bytes(key)
        data = self.data_groups
        # A real hash, not CRC-32: CRC's low bits put the keys "0"-"3" all in one group.
        digest = hashlib.blake2b(raw, digest_size=8).digest()
        return data[int.from_bytes(digest, "big") % len(data)]


def _data_name(g: int) -> str:
    return chr(ord("A") + g) if g < 19 else f"D{g}"  # "T" is the oracle's


# ----- wire form: the log and the network carry JSON, the Server speaks bytes -----------


def to_wire(x: Any) -> Any:
    """bytes -> str (keys and values here are ASCII text: workload keys and JSON values)."""
    if isinstance(x, bytes | bytearray):
        return bytes(x).decode("utf-8", "surrogateescape")
    if isinstance(x, dict):
        return {k: to_wire(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [to_wire(v) for v in x]
    return x


# ----- replicated state machines ----------------------------------------------------------


class Machine(Protocol):
    def apply(self, command: dict[str, Any]) -> Any: ...

    def snapshot(self) -> Any: ...

    def restore(self, data: Any) -> None: ...


class DataMachine:
    """One data group's state: a percolator Server, changed only by applied log entries."""

    def __init__(self) -> None:
        self.server = Server(MemoryStorage())

    def apply(self, command: dict[str, Any]) -> Any:
        return to_wire(self.server.handle(command["m"], command["req"]))

    def read(self, method: str, request: dict[str, Any]) -> Any:
        return to_wire(self.server.handle(method, request))

    def snapshot(self) -> Any:
        storage = self.server.storage
        return {cf: [[k.hex(), v.hex()] for k, v in sorted(storage.dump(cf).items())] for cf in CFS}

    def restore(self, data: Any) -> None:
        self.server = Server(MemoryStorage())
        batch = [Modify(cf, bytes.fromhex(k), bytes.fromhex(v))
                 for cf in CFS for k, v in (data or {}).get(cf, [])]
        if batch:
            self.server.storage.write(batch)


class TsoMachine:
    """The oracle group's state: the ceiling below which every timestamp handed out lies."""

    def __init__(self, mutant: bool = False) -> None:
        self.ceiling = 0
        self.mutant = mutant

    def apply(self, command: dict[str, Any]) -> Any:
        if not self.mutant:
            self.ceiling = max(self.ceiling, int(command["ceiling"]))
        return self.ceiling

    def snapshot(self) -> Any:
        return {"ceiling": self.ceiling}

    def restore(self, data: Any) -> None:
        self.ceiling = int((data or {}).get("ceiling", 0))


# ----- one Raft replica on a node -----------------------------------------------------------


class Replica(RaftHost):
    """This node's member of its group: RaftHost (kvraft's runtime) around any Machine.

    Proposals carry a random id ("rid"); whoever waits on that id here gets the applied
    result. Raft's persistent state lives under "raft/" in node.storage (a node is in one
    group only), synced before any message that depends on it leaves.
    """

    def __init__(self, node: Node, group: str, members: list[str], machine: Machine,
                 snapshot_every: int, tick_seconds: float) -> None:
        super().__init__(node, members, group=group, tag=True, snapshot_every=snapshot_every)
        self.machine = machine
        self.tick_seconds = tick_seconds
        self.restore_loaded()
        self.waiting: dict[int, asyncio.Future[Any]] = {}
        self.on_role: Callable[[], None] = lambda: None

    @property
    def is_leader(self) -> bool:
        return self.core.role == LEADER

    @property
    def serving(self) -> bool:
        """Leader, and has applied an entry of its own term: its state is complete."""
        return self.core.role == LEADER and self.applied_term == self.core.term

    def step(self, m: Message) -> None:
        self.core.step(m)
        self.pump()

    def tick(self) -> None:
        self.core.tick()
        self.pump()

    def role_changed(self, old: str) -> None:
        if old == LEADER:
            # Our proposals may or may not commit under the next leader: say so now.
            for fut in self.waiting.values():
                if not fut.done():
                    fut.set_exception(TimeoutError("leadership lost"))
            self.waiting.clear()
        self.on_role()

    def apply(self, entry: Entry) -> None:
        cmd = entry.command
        if cmd is None:
            return  # a new leader's no-op
        result = self.machine.apply(cmd)
        fut = self.waiting.pop(cmd.get("rid"), None)
        if fut is not None and not fut.done():
            fut.set_result(result)

    def snapshot(self) -> Any:
        return self.machine.snapshot()

    def restore(self, data: Any) -> None:
        self.machine.restore(data)

    def submit(self, command: dict[str, Any]) -> asyncio.Future[Any]:
        """Append `command` (NotLeader if this node cannot: then it is certainly in no
        log); the future gets its result when applied here, or TimeoutError if this node
        stops leading first (the entry may still commit under the next leader)."""
        rid = self.node.random.getrandbits(62)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.core.propose({**command, "rid": rid})  # raises NotLeader before appending
        self.waiting[rid] = fut
        self.pump()
        return fut

    async def propose(self, command: dict[str, Any], timeout: float) -> Any:
        """`submit` and wait: the result, NotLeader (not appended) or TimeoutError
        (appended, outcome unknown)."""
        fut = self.submit(command)
        try:
            return await asyncio.wait_for(asyncio.shield(fut), timeout)
        finally:
            if not fut.done():
                fut.cancel()


# ----- the oracle's leader ------------------------------------------------------------------


class TsoLeader:
    """tso.Oracle on the oracle group's leader, its ceiling kept in the group's log."""

    def __init__(self, node: Node, replica: Replica, machine: TsoMachine, mutant: bool,
                 clock_offset: float = 0.0) -> None:
        self.node, self.replica, self.machine, self.mutant = node, replica, machine, mutant
        self.clock_offset = clock_offset  # seconds: a test hook for an oracle whose clock is off
        self.oracle: Oracle | None = None
        self.term = -1
        self.pending: asyncio.Future[Any] | None = None

    def now_ms(self) -> int:
        return int((self.node.now() + self.clock_offset) * 1000)

    async def timestamp(self, timeout: float) -> int:
        """A timestamp above every one handed out before this request arrived."""
        rep = self.replica
        if not rep.serving:
            raise NotLeader(rep.core.leader_id)
        term = rep.core.term
        if self.oracle is None or self.term != term:
            # Resume above everything any earlier leader may have handed out.
            start = None if self.mutant else (self.machine.ceiling or None)
            self.oracle, self.term = Oracle(MemoryCeiling(start)), term
            self.node.log(f"tso: oracle resumes at ceiling {self.machine.ceiling} ms in term {term}")
        oracle = self.oracle
        ts = oracle.next(self.now_ms())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.mutant and self.machine.ceiling <= physical(ts):
            if self.pending is None or self.pending.done():
                self.pending = rep.submit({"ceiling": oracle.ceiling})  # NotLeader: caller's
                self.pending.add_done_callback(_retrieve)
            try:
                await asyncio.wait_for(asyncio.shield(self.pending), max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise TimeoutError("the ceiling did not commit in time") from None
        if not await rep.read_barrier(max(0.01, deadline - loop.time())):
            raise TimeoutError("leadership not confirmed")
        if self.oracle is not oracle or rep.core.term != term or not rep.is_leader:
            raise TimeoutError("leadership changed")
        return ts


def _retrieve(task: asyncio.Future[Any]) -> None:
    """A ceiling proposal's failure is its waiters' business; do not warn about it."""
    if not task.cancelled():
        task.exception()


# ----- the client side: routing requests to group leaders ------------------------------------


class Router:
    """Sends a group request to its leader: a cached hint, else members in turn.

    `call` raises RequestLost when no copy can have been applied (every attempt was
    refused by a non-leader or never answered for a read), ResponseLost when one may have
    been (a write attempt timed out) -- the client's "aborted" vs "unknown" rests on it.
    """

    def __init__(self, node: Node, layout: Layout, rpc_timeout: float, deadline: float) -> None:
        self.node, self.layout = node, layout
        self.rpc_timeout, self.deadline = rpc_timeout, deadline
        self.hints: dict[str, str] = {}
        self.turn: dict[str, int] = {}

    def _target(self, group: str) -> str:
        hint = self.hints.get(group)
        if hint is not None:
            return hint
        members = self.layout.groups[group]
        k = self.turn.get(group, self.node.random.randrange(len(members)))
        return members[k % len(members)]

    def _next(self, group: str) -> None:
        self.hints.pop(group, None)
        self.turn[group] = self.turn.get(group, 0) + 1

    async def call(self, group: str, body: dict[str, Any], writes: bool, anywhere: bool = False) -> Any:
        """The group's answer to `body`; `anywhere`: any member may answer (stale-reads)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + self.deadline
        maybe_applied = False
        while (left := end - loop.time()) > 0:
            members = self.layout.groups[group]
            dest = members[self.node.random.randrange(len(members))] if anywhere else self._target(group)
            try:
                reply = await self.node.rpc(dest, {"type": "grp", "g": group, **body},
                                            timeout=min(self.rpc_timeout, left))
            except RPCError as exc:
                if exc.code == 0 and writes:
                    maybe_applied = True  # it may sit in some log and apply later
                self._next(group)
                await asyncio.sleep(0.02)
                continue
            b = reply.body
            if b.get("redirect", False):
                leader = b.get("leader")
                if leader and leader != dest and leader in self.layout.groups[group]:
                    self.hints[group] = leader
                else:
                    self._next(group)
                    await asyncio.sleep(0.05)
                continue
            self.hints[group] = dest
            return b.get("r")
        if maybe_applied:
            raise ResponseLost(f"group {group}: no answer in time; the request may still apply")
        raise RequestLost(f"group {group}: no leader answered")
