"""MIT 6.824's sharded KV tests (lab 4B and its two challenges) as scenarios for a
cluster of a shard controller and replica groups (distlab/systems/shardkv/node.py says
what each server is and the messages it takes).

Like the controller's lab (distlab/systems/shardctrler/lab.py), each scenario is a script
run in the simulator with a fixed seed: 3 controller servers (m0-m2) and three replica
groups of 3 (gids 100, 101, 102: g100-0..2, g101-0..2, g102-0..2), as 6.824's tests.
Clerks are 6.824's: a clerk asks the controller for the latest configuration, sends a
request to the servers of the group owning the key's shard (integer key k: shard k mod
10) and, on error 1001 (wrong group) or silence, asks the controller again and retries,
numbering its requests ("client", "seq") so that a request sent twice is applied once.
6.824's Put/Append/Get become lin-kv's write, cas and read: an Append becomes a cas from
the value the clerk last saw to a new one (it must succeed: each key has one writer).

Three scenarios go beyond 6.824's: 4b_unreliable_churn, appends over a lossy network while
shards move every few hundred milliseconds (a server that moves a shard without its
session table applies a retried request twice there, and is caught on most seeds); and
4b_snapshot_resend and 4b_migration_resend, where clerks' writes are applied, read and
written over with their replies lost, and resent (same client and seq) after the group
restarted from its snapshots, or after the shards moved to another group: a server whose
snapshot, or whose shard move, leaves the session tables behind applies them again, on
every seed.

Every scenario must pass, on top of its own checks (6.824's):
* linearizability of every key (the lin-kv checker on the clerks' history);
* Raft safety of every group (the `raft {...}` trace lines, one group per "g");
* no node errors.

A node that writes no trace lines gets no Raft safety check: a passing scenario says so
(kv-lab's NO_RAFT_TRACE), and 4b_snapshot and 4b_snapshot_resend, whose point
is that servers restarted from their snapshots (their `restore` trace lines), are skipped
(LabSkip, as kv-lab's 3B scenarios), never passed.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from distlab.history import FAIL, INFO, INVOKE, OK
from distlab.options import TestOptions
from distlab.protocol import RPCError
from distlab.runner import RunResult, new_run_dir
from distlab.systems.kvraft.lab import (
    NO_RAFT_TRACE,
    LabSkip,
    ScriptRunner,
    judge,
    restores,
)
from distlab.systems.shardctrler.lab import lab_main
from distlab.workloads.lin_kv import LinKV

NODE_PATH = str(Path(__file__).with_name("node.py"))
NSHARDS = 10
GIDS = (100, 101, 102)
CTL = ["m0", "m1", "m2"]
ATTEMPT_TIMEOUT = 1.0  # a clerk's wait at one server before it tries the next
OP_DEADLINE = 30.0  # simulated seconds a clerk keeps trying before the scenario fails
WRONG_GROUP = 1001
DEFINITE = {20: "key does not exist", 22: "precondition failed"}
FATAL = {10: "not supported: no handler for it", 12: "malformed request",
         13: "crash: the handler raised"}


def group_servers(gid: int) -> list[str]:
    return [f"g{gid}-{i}" for i in range(3)]


def layout(gids: tuple[int, ...] = GIDS) -> str:
    return ";".join([f"ctl={','.join(CTL)}", *(f"{g}={','.join(group_servers(g))}" for g in gids)])


def key2shard(key: int) -> int:
    return key % NSHARDS


Script = Callable[["Harness"], Awaitable[str]]


class Harness:
    """What a script may do: clerks, joins and leaves, shutting servers and groups down."""

    def __init__(self, runner: ScriptRunner) -> None:
        self.runner = runner
        self.down: set[str] = set()
        self._clerks = 0
        self.ctl = CtlClerk(self)

    def now(self) -> float:
        return self.runner.loop.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def clerk(self) -> Clerk:
        self._clerks += 1
        return Clerk(self, f"k{self._clerks}", self._clerks - 1)

    async def join(self, *gids: int) -> None:
        """6.824's cfg.join / joinm: the groups join the controller in one request."""
        await self.ctl.call({"type": "join", "groups": {str(g): group_servers(g) for g in gids}})

    async def leave(self, *gids: int) -> None:
        await self.ctl.call({"type": "leave", "gids": list(gids)})

    def shutdown(self, node: str) -> None:
        """6.824's ShutdownServer: the node crashes (unsynced writes are lost)."""
        if node in self.down:
            return
        self.runner.record("start-kill", [node])
        self.runner.crash(node)
        self.down.add(node)

    async def start(self, node: str) -> None:
        if node not in self.down:
            return
        await self.runner.restart(node)
        self.down.discard(node)
        self.runner.record("stop-kill", [node])

    def shutdown_group(self, gid: int) -> None:
        for n in group_servers(gid):
            self.shutdown(n)

    async def start_group(self, gid: int) -> None:
        for n in group_servers(gid):
            await self.start(n)

    async def status(self, node: str) -> dict[str, Any]:
        """A live replica's `shard_status`: its configuration and the shards it holds."""
        return await self.runner.call(self.runner._new_client(), node, {"type": "shard_status"}, 1.0)


class CtlClerk:
    """The test's controller clerk: join, leave and query, each applied once (client, seq)."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.client = h.runner._new_client()
        self.name = "ctl-clerk"
        self.seq = 0
        self.next = 0

    async def call(self, body: dict[str, Any]) -> dict[str, Any]:
        r = self.h.runner
        if body["type"] != "query":
            self.seq += 1
            body = {**body, "client": self.name, "seq": self.seq}
        start = r.loop.time()
        last = "no server answered"
        while r.loop.time() < start + OP_DEADLINE:
            node = CTL[self.next % len(CTL)]
            try:
                return await r.call(self.client, node, dict(body), ATTEMPT_TIMEOUT)
            except RPCError as exc:
                if exc.code in FATAL:
                    raise AssertionError(f"controller server {node} answered {body['type']} with "
                                         f"error {exc.code} ({FATAL[exc.code]}): {exc.text}") from None
                last = f"{node}: {exc.text or exc.code}"
                self.next += 1
        raise AssertionError(f"the controller did not answer {body['type']} in {OP_DEADLINE:g} s "
                             f"(last: {last})")

    async def query(self) -> dict[str, Any]:
        return (await self.call({"type": "query", "num": -1}))["config"]


class Clerk:
    """6.824's shardkv clerk, recording each operation in the run's lin-kv history."""

    def __init__(self, h: Harness, name: str, process: int) -> None:
        self.h = h
        self.name = name
        self.process = process
        self.client = h.runner._new_client()
        self.seq = 0
        self.config: dict[str, Any] | None = None
        self.leader: dict[str, int] = {}  # gid -> index of the server that answered last

    async def _op(self, f: str, key: int, arg: Any, deadline: float = OP_DEADLINE,
                  seq: int | None = None, lose_reply: bool = False) -> Any:
        """Run one operation until it is answered; None if not within `deadline` (then the
        history says its outcome is unknown). `lose_reply`: the clerk never hears the
        answer (the history leaves the operation open), so it may resend it later under
        the same `seq` (then the invocation is already in the history)."""
        r = self.h.runner
        resend = seq is not None
        if seq is None:
            self.seq += 1
            seq = self.seq
        body: dict[str, Any] = {"type": f, "key": key, "client": self.name, "seq": seq}
        if f == "write":
            body["value"] = arg
        elif f == "cas":
            body.update({"from": arg[0], "to": arg[1]})
        value = [key, arg]
        start = r.loop.time()
        if not resend:
            r.history.add(start, self.process, INVOKE, f, value)
        history: Any = _Silent() if lose_reply else r.history
        last = "no server answered"
        while r.loop.time() < start + deadline:
            if self.config is None:
                self.config = await self.h.ctl.query()
            gid = str(self.config["shards"][key2shard(key)])
            servers = self.config["groups"].get(gid, [])
            for k in range(len(servers)):
                i = (self.leader.get(gid, 0) + k) % len(servers)
                node = servers[i]
                try:
                    reply = await r.call(self.client, node, dict(body), ATTEMPT_TIMEOUT)
                except RPCError as exc:
                    if exc.code in DEFINITE:
                        history.add(r.loop.time(), self.process, FAIL, f, value, error=[exc.code, exc.text])
                        return exc
                    if exc.code in FATAL:
                        history.add(r.loop.time(), self.process, INFO, f, value, error=[exc.code, exc.text])
                        raise AssertionError(f"{node} answered {f} of key {key} with error {exc.code} "
                                             f"({FATAL[exc.code]}): {exc.text}") from None
                    last = f"{node}: {exc.text or exc.code}"
                    if exc.code == WRONG_GROUP:
                        break
                    continue
                self.leader[gid] = i
                ok = [key, reply.get("value")] if f == "read" else value
                history.add(r.loop.time(), self.process, OK, f, ok)
                return reply
            await asyncio.sleep(0.1)
            self.config = await self.h.ctl.query()
        history.add(r.loop.time(), self.process, INFO, f, value, error=[0, last])
        return None

    async def get(self, key: int, deadline: float = OP_DEADLINE) -> Any:
        """The key's value (None if it does not exist); AssertionError if no answer."""
        reply = await self._op("read", key, None, deadline)
        if reply is None:
            raise AssertionError(f"{self.name}'s read of key {key} got no answer in {deadline:g} s")
        return None if isinstance(reply, RPCError) else reply["value"]

    async def put(self, key: int, value: int) -> None:
        if await self._op("write", key, value) is None:
            raise AssertionError(f"{self.name}'s write of key {key} got no answer in {OP_DEADLINE:g} s")

    async def append(self, key: int, old: int, new: int) -> None:
        """6.824's Append: here a cas from the value last written (one writer per key)."""
        reply = await self._op("cas", key, [old, new])
        if reply is None:
            raise AssertionError(f"{self.name}'s cas of key {key} got no answer in {OP_DEADLINE:g} s")
        if isinstance(reply, RPCError):
            raise AssertionError(f"cas of key {key} from {old} to {new} failed ({reply.text}), but "
                                 f"its only writer last wrote {old}: was a request applied twice "
                                 "(a retry must get the first answer, from the session table the "
                                 "shard moved with), or a write lost?")


class _Silent:
    """A history that keeps nothing: where a lost reply's completion would have gone."""

    def add(self, *args: Any, **kw: Any) -> dict[str, Any]:
        return {}


async def opening(h: Harness) -> tuple[Clerk, Keys]:
    """Most of 6.824's tests begin so: a clerk, group 100 joined, a value put to each key."""
    ck = h.clerk()
    await h.join(100)
    keys = Keys()
    await keys.put_all(ck)
    return ck, keys


async def check(ck: Clerk, key: int, want: int) -> None:
    """6.824's check: Get returns the value last written."""
    got = await ck.get(key)
    if got != want:
        raise AssertionError(f"read of key {key} returned {got}, expected {want} (the last value written)")


class Keys:
    """6.824's ka/va: n keys (one per shard for n = 10) and the value each last got."""

    def __init__(self, n: int = NSHARDS) -> None:
        self.keys = list(range(n))
        self.values: dict[int, int] = {}
        self.counter = 0

    def fresh(self) -> int:
        self.counter += 1
        return self.counter

    async def put_all(self, ck: Clerk) -> None:
        for k in self.keys:
            self.values[k] = self.fresh()
            await ck.put(k, self.values[k])

    async def check_all(self, ck: Clerk) -> None:
        for k in self.keys:
            await check(ck, k, self.values[k])

    async def check_append_all(self, ck: Clerk) -> None:
        for k in self.keys:
            await check(ck, k, self.values[k])
            new = self.fresh()
            await ck.append(k, self.values[k], new)
            self.values[k] = new


# ----- 6.824's shardkv tests -----------------------------------------------------------------
async def static_shards(h: Harness) -> str:
    """TestStaticShards: with one group down, only its keys' reads go unanswered."""
    ck = h.clerk()
    await h.join(100)
    await h.join(101)
    keys = Keys()
    await keys.put_all(ck)
    await keys.check_all(ck)
    h.shutdown_group(101)
    results = await asyncio.gather(*(h.clerk()._op("read", k, None, deadline=3.0) for k in keys.keys))
    done = sum(1 for r in results if r is not None)
    if done != 5:
        raise AssertionError(f"expected 5 reads answered with group 101 down, got {done}")
    await h.start_group(101)
    await keys.check_all(ck)
    return "5 of 10 reads answered with one group down, all 10 after its restart"


async def join_leave(h: Harness) -> str:
    """TestJoinLeave: shards follow joins and leaves; the group that left serves nothing."""
    ck, keys = await opening(h)
    await keys.check_all(ck)
    await h.join(101)
    await keys.check_append_all(ck)
    await h.leave(100)
    await keys.check_append_all(ck)
    await h.sleep(1.0)
    h.shutdown_group(100)
    await keys.check_all(ck)
    return "all keys moved to group 101, then group 100 shut down"


async def snapshot(h: Harness) -> str:
    """TestSnapshot (6.824 runs it with maxraftstate 1000): many changes, then every group
    shut down and restarted from its snapshots."""
    ck, keys = await opening(h)
    await keys.check_all(ck)
    await h.join(101)
    await h.join(102)
    await h.leave(100)
    await keys.check_append_all(ck)
    await h.leave(101)
    await h.join(100)
    await keys.check_append_all(ck)
    await h.sleep(1.0)
    await keys.check_all(ck)
    await h.sleep(1.0)
    for g in GIDS:
        h.shutdown_group(g)
    for g in GIDS:
        await h.start_group(g)
    await keys.check_all(ck)
    return "all groups restarted"


async def miss_change(h: Harness) -> str:
    """TestMissChange: a server of each group is down through several configurations and
    catches up when it comes back."""
    ck, keys = await opening(h)
    await keys.check_all(ck)
    await h.join(101)
    for g in GIDS:
        h.shutdown(group_servers(g)[0])
    await h.join(102)
    await h.leave(101)
    await h.leave(100)
    await keys.check_append_all(ck)
    await h.join(101)
    await keys.check_append_all(ck)
    for g in GIDS:
        await h.start(group_servers(g)[0])
    await keys.check_append_all(ck)
    await h.sleep(2.0)
    for g in GIDS:
        h.shutdown(group_servers(g)[1])
    await h.join(100)
    await h.leave(102)
    await keys.check_append_all(ck)
    for g in GIDS:
        await h.start(group_servers(g)[1])
    await keys.check_all(ck)
    return "one server of each group missed configuration changes, twice"


async def appenders(h: Harness, keys: Keys, pause: float, body: Callable[[], Awaitable[None]]) -> int:
    """6.824's concurrent tests: a clerk per key appends (cas) all along while `body`
    changes configurations; returns how many appends were made."""
    done = asyncio.Event()
    count = 0

    async def ff(k: int) -> None:
        nonlocal count
        ck = h.clerk()
        while not done.is_set():
            new = keys.fresh()
            await ck.append(k, keys.values[k], new)
            keys.values[k] = new
            count += 1
            await h.sleep(pause)

    async def run_body() -> None:
        try:
            await body()
        finally:
            done.set()

    await asyncio.gather(run_body(), *(ff(k) for k in keys.keys))
    return count


async def concurrent1(h: Harness) -> str:
    ck, keys = await opening(h)

    async def body() -> None:
        await h.sleep(0.15)
        await h.join(101)
        await h.sleep(0.5)
        await h.join(102)
        await h.sleep(0.5)
        await h.leave(100)
        for g in GIDS:
            h.shutdown_group(g)
            await h.sleep(0.1)
        await h.leave(102)
        await h.sleep(0.1)
        for g in GIDS:
            await h.start_group(g)
        await h.sleep(0.1)
        await h.join(100)
        await h.leave(101)
        await h.sleep(0.5)
        await h.join(101)
        await h.sleep(1.0)

    n = await appenders(h, keys, 0.01, body)
    await keys.check_all(ck)
    return f"{n} appends while groups joined, left and restarted"


async def concurrent2(h: Harness) -> str:
    ck = h.clerk()
    await h.join(101)
    await h.join(100)
    await h.join(102)
    keys = Keys()
    await keys.put_all(ck)

    async def body() -> None:
        await h.leave(100)
        await h.leave(102)
        await h.sleep(3.0)
        await h.join(100)
        await h.join(102)
        await h.leave(101)
        await h.sleep(3.0)
        await h.join(101)
        await h.leave(100)
        await h.leave(102)
        await h.sleep(3.0)
        h.shutdown_group(101)
        h.shutdown_group(102)
        await h.sleep(1.0)
        await h.start_group(101)
        await h.start_group(102)
        await h.sleep(2.0)

    n = await appenders(h, keys, 0.05, body)
    await keys.check_all(ck)
    return f"{n} appends"


async def concurrent3(h: Harness, seconds: float = 12.0) -> str:
    ck, keys = await opening(h)
    rng = random.Random(3)

    async def body() -> None:
        t0 = h.now()
        while h.now() - t0 < seconds:
            await h.join(102)
            await h.join(101)
            await h.sleep(rng.uniform(0, 0.9))
            for g in GIDS:
                h.shutdown_group(g)
            for g in GIDS:
                await h.start_group(g)
            await h.sleep(rng.uniform(0, 0.9))
            await h.leave(101)
            await h.leave(102)
            await h.sleep(rng.uniform(0, 0.9))
        await h.sleep(2.0)

    n = await appenders(h, keys, 0.02, body)
    await keys.check_all(ck)
    return f"{n} appends across restarts of every group"


async def unreliable1(h: Harness) -> str:
    ck, keys = await opening(h)
    await h.join(101)
    await h.join(102)
    await h.leave(100)
    for _ in range(2):
        await keys.check_append_all(ck)
    await h.join(100)
    await h.leave(101)
    for _ in range(2):
        await keys.check_all(ck)
    return "10% of messages lost, 10% duplicated"


async def unreliable2(h: Harness) -> str:
    ck, keys = await opening(h)

    async def body() -> None:
        await h.sleep(0.15)
        await h.join(101)
        await h.sleep(0.5)
        await h.join(102)
        await h.sleep(0.5)
        await h.leave(100)
        await h.sleep(0.5)
        await h.leave(101)
        await h.sleep(0.5)
        await h.join(101)
        await h.join(100)
        await h.sleep(2.0)

    n = await appenders(h, keys, 0.01, body)
    await keys.check_all(ck)
    return f"{n} appends over a lossy network"


async def unreliable3(h: Harness) -> str:
    """TestUnreliable3: clerks read, write and cas random keys (not one writer per key)
    while configurations change over a lossy network: only the linearizability checker
    judges the values."""
    await h.join(100)
    rng = random.Random(33)
    done = asyncio.Event()
    ops = 0

    async def worker() -> None:
        nonlocal ops
        ck = h.clerk()
        while not done.is_set():
            key = rng.randrange(NSHARDS)
            roll = rng.random()
            if roll < 1 / 3:
                await ck._op("read", key, None)
            elif roll < 2 / 3:
                await ck._op("write", key, rng.randrange(5))
            else:
                await ck._op("cas", key, [rng.randrange(5), rng.randrange(5)])
            ops += 1
            await h.sleep(0.01)

    async def body() -> None:
        try:
            await h.sleep(0.15)
            await h.join(101)
            await h.sleep(0.5)
            await h.join(102)
            await h.sleep(0.5)
            await h.leave(100)
            await h.sleep(0.5)
            await h.leave(101)
            await h.sleep(0.5)
            await h.join(101)
            await h.join(100)
            await h.sleep(2.0)
        finally:
            done.set()

    await asyncio.gather(body(), *(worker() for _ in range(10)))
    return f"{ops} random operations by 10 clerks"


async def challenge1_delete(h: Harness) -> str:
    """TestChallenge1Delete: after shards move around, each is stored by its owner only
    (the groups it left deleted it), and the servers' stored state stays small."""
    ck = h.clerk()
    await h.join(100)
    keys = Keys(30)
    big = "x" * 1000  # 6.824 stores 30 values of 1000 bytes
    for k in keys.keys:
        keys.values[k] = keys.fresh()
        await ck.put(k, keys.values[k])
        await ck.put(k + 1000, big + str(k))
    for _ in range(2):
        await h.join(101)
        await h.leave(100)
        await h.join(102)
        await h.sleep(3.0)
        await keys.check_all(ck)
        await h.leave(101)
        await h.join(100)
        await h.leave(102)
        await h.sleep(3.0)
        await keys.check_all(ck)
    await h.join(101)
    await h.join(102)
    for _ in range(3):
        await h.sleep(1.0)
        await keys.check_all(ck)
    config = await h.ctl.query()
    extra = []
    for g in GIDS:
        for node in group_servers(g):
            st = await h.status(node)
            for s, info in st["shards"].items():
                if config["shards"][int(s)] != g and info["keys"]:
                    extra.append(f"{node} (group {g}) still holds shard {s} ({info['keys']} keys, "
                                 f"{info['state']}), which group {config['shards'][int(s)]} owns")
    if extra:
        raise AssertionError(f"shards handed away were not deleted: {extra[0]} "
                             f"(and {len(extra) - 1} more copies)")
    return f"each shard held by its owner only, in configuration {config['num']}"


def stored_bytes_check(result: RunResult, limit: int) -> str:
    """Challenge 1's size check: what the replica servers store on disk at the end."""
    disks = result.results.get("disks") or {}
    total = sum(d["bytes"] for n, d in disks.items() if n.startswith("g"))
    if total > limit:
        raise AssertionError(f"the replica servers store {total} bytes at the end, more than "
                             f"{limit}: are shards handed away deleted, and the log snapshotted?")
    return f"{total} bytes stored by the replica servers"


async def challenge2_unaffected(h: Harness) -> str:
    """TestChallenge2Unaffected: a group keeps serving the shards it owns while it waits,
    forever, for shards from a group that is down."""
    ck, keys = await opening(h)
    await h.join(101)
    config = await h.ctl.query()
    owned = [s for s, g in enumerate(config["shards"]) if g == 101]
    await h.sleep(1.0)
    for k in keys.keys:
        if key2shard(k) in owned:
            keys.values[k] = keys.fresh()
            await ck.put(k, keys.values[k])
    h.shutdown_group(100)
    await h.leave(100)  # 101 cannot get 100's shards: it is down
    await h.sleep(1.0)
    for k in keys.keys:
        if key2shard(k) in owned:
            await check(ck, k, keys.values[k])
            new = keys.fresh()
            await ck.put(k, new)
            keys.values[k] = new
            await check(ck, k, new)
    return f"group 101 served its {len(owned)} shards while waiting for group 100's"


async def challenge2_partial(h: Harness) -> str:
    """TestChallenge2Partial: shards received are served at once, even while the group
    still waits for others (from a group that is down)."""
    ck = h.clerk()
    await h.join(100, 101, 102)
    await h.sleep(1.0)
    keys = Keys()
    await keys.put_all(ck)
    config = await h.ctl.query()
    owned = [s for s, g in enumerate(config["shards"]) if g == 102]
    h.shutdown_group(100)
    await h.leave(100, 102)  # 101 can get 102's shards, not 100's
    await h.sleep(1.0)
    for k in keys.keys:
        if key2shard(k) in owned:
            await check(ck, k, keys.values[k])
            new = keys.fresh()
            await ck.put(k, new)
            keys.values[k] = new
            await check(ck, k, new)
    return f"group 101 served the {len(owned)} shards it got from 102 while 100's never came"


# ----- beyond the anchor ----------------------------------------------------------------------
async def unreliable_churn(h: Harness) -> str:
    """Appends over a lossy network while shards move every few hundred milliseconds: a
    reply lost just before its shard moves is retried at the new owner, which must answer
    it from the session table that moved with the shard instead of applying it again."""
    ck, keys = await opening(h)
    rng = random.Random(5)
    moves = 0

    async def body() -> None:
        nonlocal moves
        groups = {100}
        for _ in range(12):
            g = rng.choice(GIDS)
            if g in groups and len(groups) > 1:
                groups.discard(g)
                await h.leave(g)
            elif g not in groups:
                groups.add(g)
                await h.join(g)
            moves += 1
            await h.sleep(rng.uniform(0.1, 0.5))
        await h.sleep(2.0)

    n = await appenders(h, keys, 0.01, body)
    await keys.check_all(ck)
    return f"{n} appends through {moves} configuration changes"


async def lose_replies(h: Harness, ck: Clerk, keys: Keys, ks: list[int]) -> list[tuple[Clerk, int, int, int]]:
    """A clerk per key writes it and never hears the answer; `ck` reads what it wrote and
    writes over it, so the history pins the write before the overwrite. Returns the writes
    answered (applied) as (clerk, key, value, seq), to be resent later."""
    lost = []
    for k in ks:
        writer = h.clerk()
        value = keys.fresh()
        if isinstance(await writer._op("write", k, value, lose_reply=True), dict):
            lost.append((writer, k, value, writer.seq))
    if not lost:
        raise AssertionError(f"none of the writes of keys {ks} was answered, with no fault yet")
    for _, k, value, _ in lost:
        got = await ck.get(k)
        if got != value:
            raise AssertionError(f"read of key {k} returned {got}, expected {value} (the last "
                                 "value written)")
        keys.values[k] = keys.fresh()
        await ck.put(k, keys.values[k])
    return lost


async def resend(ck: Clerk, keys: Keys, lost: list[tuple[Clerk, int, int, int]], meanwhile: str) -> None:
    """The clerks resend their writes (same client and seq) and `ck` reads each key: a
    resend answered from the session table leaves the overwrite in place."""
    for writer, k, value, seq in lost:
        if await writer._op("write", k, value, seq=seq) is None:
            raise AssertionError(f"{writer.name}'s resent write of key {k} got no answer in "
                                 f"{OP_DEADLINE:g} s")
        got = await ck.get(k)
        if got == value:
            raise AssertionError(
                f"a write was applied a second time: {writer.name}'s write of {value} to key {k} "
                f"was applied and read, {keys.values[k]} was written over it, {meanwhile}, then "
                f"{writer.name} resent the write (same seq: its reply had been lost) and key {k} "
                f"read {value} again. A resend must be answered from the shard's session table: "
                + ("does the snapshot carry it, and does restoring one restore it?"
                   if "snapshot" in meanwhile else "does it move with the shard?"))
        if got != keys.values[k]:
            raise AssertionError(f"read of key {k} returned {got}, expected {keys.values[k]} "
                                 "(the last value written)")


async def snapshot_resend(h: Harness) -> str:
    """A reply lost across a snapshot: clerks' writes are applied, read and written over,
    but the clerks never hear their answers; the group then writes on until every server
    has compacted its log past them, and is restarted, so every server comes back from its
    snapshot. The clerks resend their writes (same client and seq): each must be answered
    from the shard's session table, which the snapshot must carry, not applied again."""
    ck, keys = await opening(h)
    lost = await lose_replies(h, ck, keys, keys.keys[:3])
    for _ in range(4):  # 80 more commands: each server compacts past the writes (6.824's
        await keys.check_append_all(ck)  # maxraftstate; here --snapshot-every=20)
    h.shutdown_group(100)
    await h.start_group(100)
    await resend(ck, keys, lost, "group 100 restarted from its snapshots")
    await keys.check_all(ck)
    return f"{len(lost)} resent writes answered once after group 100 restarted from its snapshots"


async def migration_resend(h: Harness) -> str:
    """A reply lost across a shard move: clerks' writes to shards of group 100 are applied,
    read and written over, but the clerks never hear their answers; group 100 leaves and
    its shards move to group 101. The clerks resend their writes (same client and seq) to
    the new owner, which must answer them from the session tables that moved with the
    shards, not apply them again."""
    ck = h.clerk()
    await h.join(100, 101)
    keys = Keys()
    await keys.put_all(ck)
    config = await h.ctl.query()
    ks = [k for k in keys.keys if config["shards"][key2shard(k)] == 100][:3]
    lost = await lose_replies(h, ck, keys, ks)
    await h.leave(100)
    await h.sleep(2.0)  # the shards move (else group 100 may still answer, from its own table)
    await resend(ck, keys, lost, "group 100 left and its shards moved to group 101")
    await keys.check_all(ck)
    return f"{len(lost)} resent writes answered once by the shards' new owner"


SCENARIOS: dict[str, Script] = {
    "4b_static_shards": static_shards,
    "4b_join_leave": join_leave,
    "4b_snapshot": snapshot,
    "4b_miss_change": miss_change,
    "4b_concurrent1": concurrent1,
    "4b_concurrent2": concurrent2,
    "4b_concurrent3": concurrent3,
    "4b_unreliable1": unreliable1,
    "4b_unreliable2": unreliable2,
    "4b_unreliable3": unreliable3,
    "4b_challenge1_delete": challenge1_delete,
    "4b_challenge2_unaffected": challenge2_unaffected,
    "4b_challenge2_partial": challenge2_partial,
    "4b_unreliable_churn": unreliable_churn,
    "4b_snapshot_resend": snapshot_resend,
    "4b_migration_resend": migration_resend,
}

UNRELIABLE = {"loss": 0.1, "duplication": 0.1}
OPTIONS: dict[str, dict[str, Any]] = {
    "4b_unreliable1": UNRELIABLE,
    "4b_unreliable2": UNRELIABLE,
    "4b_unreliable3": UNRELIABLE,
    "4b_unreliable_churn": UNRELIABLE,
}
NODE_ARGS: dict[str, list[str]] = {  # 6.824 runs these with a small maxraftstate
    "4b_snapshot": ["--snapshot-every=20"],
    "4b_challenge1_delete": ["--snapshot-every=10"],
    "4b_snapshot_resend": ["--snapshot-every=20"],
}
SNAPSHOT_SCENARIOS = ("4b_snapshot", "4b_snapshot_resend")  # a restore trace line must show
CHALLENGE1_LIMIT = 3 * 3 * 30 * 1100  # 30 values of 1000 bytes, on 3 replicas, once, plus slop


@dataclass
class Lab:
    """The cluster's node file and how to run it (as the controller lab's Lab)."""

    bin: str = NODE_PATH
    bin_args: list[str] = field(default_factory=list)
    store: str = "store"
    mode: str = "auto"
    seed: int = 1
    runs: list[RunResult] = field(default_factory=list)

    def run(self, name: str) -> str:
        """Run one scenario; AssertionError with a sentence unless everything held."""
        return self.run_script(name, SCENARIOS[name])

    def run_script(self, name: str, script: Script) -> str:
        """Run `script` as scenario `name` (its options, node arguments and end checks)."""
        nodes = CTL + [n for g in GIDS for n in group_servers(g)]
        args = [f"--layout={layout()}", *NODE_ARGS.get(name, []), *self.bin_args]
        opts = TestOptions(workload="lin-kv", bin=self.bin, bin_args=args, nodes=nodes,
                           store=self.store, mode=self.mode, seed=self.seed, time_limit=0.0,
                           rate=0.0, **OPTIONS.get(name, {}))
        run_dir = new_run_dir(opts.store, "shardkv")
        opts.jitter = opts.resolved_jitter()
        config = {**asdict(opts), "bin": str(Path(opts.bin).resolve()), "scenario": name,
                  "mode": opts.resolved_mode()}  # `distlab analyze raft` orders sim runs' events
        (run_dir / "config.json").write_bytes(orjson.dumps(config, option=orjson.OPT_INDENT_2))
        runner = ScriptRunner(opts, run_dir, script, LinKV, Harness)
        result = runner.run()
        self.runs.append(result)
        if runner.failure is not None:
            raise AssertionError(str(runner.failure))
        judge(result, served=False)
        raft = result.results.get("raft_safety")
        detail = runner.detail
        if name == "4b_challenge1_delete":
            detail += "; " + stored_bytes_check(result, CHALLENGE1_LIMIT)
        if raft is None and name in SNAPSHOT_SCENARIOS:
            # whether any server restored a snapshot is unknown: a pass would claim it
            raise LabSkip(f"reads the nodes' raft trace lines to see that the servers restarted "
                          f"from their snapshots, and they wrote none ({detail}); {NO_RAFT_TRACE}")
        if raft is None:
            return f"{detail}; {NO_RAFT_TRACE}"
        if name in SNAPSHOT_SCENARIOS:
            back = [n for n, i, at_start in restores(result) if at_start and i > 0]
            if not back:
                raise AssertionError("no server restarted from a snapshot (no restore trace line "
                                     "right after a start)")
            detail += f"; {len(back)} restarts from a snapshot"
        return detail


def lin_kv(store: str = "store", seed: int = 1, node_args: list[str] | None = None,
           churn: float = 0.3, **opts: Any) -> RunResult:
    """A random lin-kv run (`distlab test -w lin-kv`) against the whole cluster, its
    servers started with --route, --auto-join and --churn: clients that know nothing of
    shards use any server while shards keep moving, under the faults in `opts`."""
    from distlab.runner import run_test

    nodes = CTL + [n for g in GIDS for n in group_servers(g)]
    args = [f"--layout={layout()}", "--route", "--auto-join", f"--churn={churn}", *(node_args or [])]
    kw: dict[str, Any] = {"time_limit": 20.0, "rate": 100.0, "key_count": 5, "nemesis": ["partition"],
                          "loss": 0.05, "duplication": 0.05, **opts}
    return run_test(TestOptions(workload="lin-kv", bin=NODE_PATH, bin_args=args, nodes=nodes,
                                store=store, seed=seed, **kw))


def main(argv: list[str] | None = None) -> int:
    """python -m distlab.systems.shardkv.lab [NODE [ARGS...]] [--only NAME]: every
    scenario against NODE (distlab's shardkv when none), one line each."""
    return lab_main(argv, "python -m distlab.systems.shardkv.lab", main.__doc__, NODE_PATH, SCENARIOS, Lab)


if __name__ == "__main__":
    raise SystemExit(main())
