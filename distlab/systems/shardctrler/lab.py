"""MIT 6.824's shard controller tests (lab 4A: TestBasic and TestMulti) as scenarios for
any node that serves join, leave, move and query (distlab/systems/shardctrler/node.py
documents the messages).

6.824's tests are scripts, not random workloads: a clerk joins groups, queries, checks
the answer, shuts a server down, queries again. So each scenario here is a script run
in the simulator (fixed seed, 3 servers as in 6.824) by kv-lab's `ScriptRunner`, a Runner whose
clients are clerks: a clerk tries the servers in turn until one answers, numbering its
join/leave/move requests ("client", "seq") so a retry is applied once. Every scenario
then must pass, on top of its own assertions (6.824's):

* the history checker (distlab/systems/shardctrler/checker.py): one configuration per
  number, queries answered with the configuration asked for, each operation applied
  exactly once, and every rebalancing balanced and moving the fewest shards;
* Raft safety from the nodes' `raft {...}` trace lines, when the node writes them
  (results.json "raft_safety"), as in kv-lab; when it writes none, a passing scenario
  says so (kv-lab's `NO_RAFT_TRACE`) instead of passing as if it had been checked;
* no node errors.

6.824's "minimal transfers" tests look at gids 1-10 only; here the stronger property
is checked: the number of shards that changed owner equals the fewest a balanced
assignment allows (`rebalance.min_moves`), and a join only takes shards from old groups
(a leave only gives shards to the remaining ones).
"""

from __future__ import annotations

import asyncio
import copy
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
from distlab.systems.kvraft.lab import LabSkip, ScriptRunner, judge, raft_note
from distlab.systems.shardctrler.checker import ShardCtrlerChecker
from distlab.systems.shardctrler.rebalance import NSHARDS, balanced, min_moves, moves
from distlab.workloads.base import Op, Workload

NODE_PATH = str(Path(__file__).with_name("node.py"))
ATTEMPT_TIMEOUT = 2.0  # a clerk's wait at one server before it tries the next
OP_DEADLINE = 30.0  # simulated seconds a clerk keeps trying before the scenario fails
FATAL = {10: "not supported: no handler for it", 12: "malformed request",
         13: "crash: the handler raised"}  # a retry elsewhere cannot help


class ShardCtrlerWorkload(Workload):
    """The run's workload: only its checker matters (the clerks make the operations)."""

    name = "shardctrler"

    def next_op(self, process: int) -> Op:
        return Op("query", {"num": -1})

    def request(self, op: Op) -> dict[str, Any]:
        return {"type": "query", "num": -1}

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        return {"num": -1, "config": reply["config"]}

    def checker(self) -> ShardCtrlerChecker:
        return ShardCtrlerChecker()


Script = Callable[["Harness"], Awaitable[str]]


class Harness:
    """What a script may do: make clerks, shut servers down and start them, partition."""

    def __init__(self, runner: ScriptRunner) -> None:
        self.runner = runner
        self.nodes = list(runner.node_ids)
        self.down: set[str] = set()
        self.has_status = True  # False once a node says it has no raft_status handler
        self._clerks = 0

    def now(self) -> float:
        return self.runner.loop.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def clerk(self) -> Clerk:
        self._clerks += 1
        return Clerk(self, f"k{self._clerks}", self._clerks - 1)

    def shutdown(self, node: str) -> None:
        """6.824's ShutdownServer: the node crashes (unsynced writes are lost)."""
        self.runner.record("start-kill", [node])
        self.runner.crash(node)
        self.down.add(node)

    async def start(self, node: str) -> None:
        await self.runner.restart(node)
        self.down.discard(node)
        self.runner.record("stop-kill", [node])

    def partition(self, *sides: list[str]) -> None:
        """Cut the nodes into `sides` (each side hears only itself)."""
        grudge = {n: frozenset(m for m in self.nodes if m not in side) for side in sides for n in side}
        self.runner.network.partition(grudge)
        self.runner.record("start-partition", {"grudge": {k: sorted(v) for k, v in grudge.items() if v}})

    def heal(self) -> None:
        self.runner.network.heal()
        self.runner.record("stop-partition", "network healed")

    async def leader(self) -> str | None:
        """The live node that says it leads in the highest term (6.824's cfg.Leader()),
        asked with `raft_status` (answered {"role": ..., "term": ...}); None if none does."""
        best: tuple[int, str] | None = None
        for n in self.nodes:
            if n in self.down:
                continue
            try:
                st = await self.runner.call(self.runner._new_client(), n, {"type": "raft_status"}, 1.0)
            except RPCError as exc:
                if exc.code == 10:
                    self.has_status = False
                continue
            if st.get("role") == "leader" and (best is None or st["term"] > best[0]):
                best = (st["term"], n)
        return best[1] if best else None


class Clerk:
    """6.824's clerk: tries the servers in turn until one answers; join, leave and move
    carry (client, seq) so that a request sent twice is applied once."""

    def __init__(self, h: Harness, name: str, index: int) -> None:
        self.h = h
        self.name = name
        self.process = index
        self.client = h.runner._new_client()
        self.seq = 0
        self.next = index  # where to try first: spread the clerks over the servers

    async def _call(self, f: str, body: dict[str, Any], value: Any) -> dict[str, Any]:
        r = self.h.runner
        if f != "query":
            self.seq += 1
            body.update(client=self.name, seq=self.seq)
        start = r.loop.time()
        r.history.add(start, self.process, INVOKE, f, value)
        last = "no server answered"
        while r.loop.time() < start + OP_DEADLINE:
            node = self.h.nodes[self.next % len(self.h.nodes)]
            try:
                reply = await r.call(self.client, node, copy.deepcopy(body), ATTEMPT_TIMEOUT)
            except RPCError as exc:
                if exc.code in FATAL:
                    r.history.add(r.loop.time(), self.process, FAIL, f, value, error=[exc.code, exc.text])
                    raise AssertionError(f"{node} answered {f} {value} with error {exc.code} "
                                         f"({FATAL[exc.code]}): {exc.text}") from None
                last = f"{node}: {exc.text or exc.code}"
                self.next += 1
                continue
            ok = {"num": value["num"], "config": reply.get("config")} if f == "query" else value
            r.history.add(r.loop.time(), self.process, OK, f, ok)
            return reply
        r.history.add(r.loop.time(), self.process, INFO, f, value, error=[0, last])
        raise AssertionError(f"{self.name}'s {f} {value} got no answer in {OP_DEADLINE:g} s "
                             f"(last: {last})")

    async def join(self, groups: dict[int, list[str]]) -> None:
        wire = {str(g): list(s) for g, s in groups.items()}
        await self._call("join", {"type": "join", "groups": wire}, {"groups": wire})

    async def leave(self, gids: list[int]) -> None:
        await self._call("leave", {"type": "leave", "gids": list(gids)}, {"gids": list(gids)})

    async def move(self, shard: int, gid: int) -> None:
        await self._call("move", {"type": "move", "shard": shard, "gid": gid},
                         {"shard": shard, "gid": gid})

    async def query(self, num: int = -1) -> dict[str, Any]:
        reply = await self._call("query", {"type": "query", "num": num}, {"num": num})
        config = reply.get("config")
        if not isinstance(config, dict) or not {"num", "shards", "groups"} <= set(config):
            raise AssertionError(f"query({num}) answered {reply}, not a configuration "
                                 "(num, shards, groups)")
        return config


# ----- 6.824's checks -------------------------------------------------------------------
def gids_of(config: dict[str, Any]) -> list[int]:
    return sorted(int(g) for g in config["groups"])


async def check(ck: Clerk, groups: list[int]) -> dict[str, Any]:
    """6.824's check(): the latest configuration has exactly these groups, every shard on
    one of them, and sizes within one."""
    c = await ck.query(-1)
    have = gids_of(c)
    if have != sorted(groups):
        raise AssertionError(f"configuration {c['num']} has groups {have}; wanted {sorted(groups)}")
    if groups and any(str(g) not in c["groups"] for g in c["shards"]):
        bad = [(s, g) for s, g in enumerate(c["shards"]) if str(g) not in c["groups"]]
        raise AssertionError(f"configuration {c['num']}: shard {bad[0][0]} is on group {bad[0][1]}, "
                             "which is not in it")
    if groups and not balanced(c["shards"], groups):
        counts = [c["shards"].count(g) for g in groups]
        raise AssertionError(f"configuration {c['num']} is not balanced: group sizes "
                             f"{dict(zip(groups, counts, strict=True))} (max must be <= min + 1)")
    return c


def check_same_config(got: dict[str, Any], want: dict[str, Any], when: str = "") -> None:
    """6.824's check_same_config, saying what differs."""
    if got == want:
        return
    if got["num"] != want["num"]:
        what = f"configuration {got['num']} instead of {want['num']}"
    elif got["shards"] != want["shards"]:
        what = f"shards {got['shards']} where it had been {want['shards']}"
    else:
        what = f"groups {got['groups']} where they had been {want['groups']}"
    raise AssertionError(f"query({want['num']}){when} answered {what}")


def check_servers(c: dict[str, Any], gid: int, servers: list[str]) -> None:
    if c["groups"].get(str(gid)) != servers:
        raise AssertionError(f"wrong servers for gid {gid}: {c['groups'].get(str(gid))}, "
                             f"joined with {servers}")


def check_minimal(before: dict[str, Any], after: dict[str, Any], what: str, count: bool = True) -> str:
    """After joins no shard moves to an old group, after leaves none leaves a remaining
    group (6.824's check); with `count`, for one Join or Leave, the shards that changed
    owner are also as few as a balanced assignment allows (steps that are each minimal
    need not be, taken together)."""
    old, new = set(gids_of(before)), set(gids_of(after))
    for s, (a, b) in enumerate(zip(before["shards"], after["shards"], strict=True)):
        if a == b:
            continue
        if what == "joins" and b in old:
            raise AssertionError(f"non-minimal transfer after joins: shard {s} moved from group "
                                 f"{a} to group {b}, which was already there")
        if what == "leaves" and a in new:
            raise AssertionError(f"non-minimal transfer after leaves: shard {s} left group {a}, "
                                 "which stayed")
    moved, need = moves(before["shards"], after["shards"]), min_moves(before["shards"], sorted(new))
    if count and moved != need:
        raise AssertionError(f"non-minimal transfer after {what}: {moved} shards moved, {need} "
                             f"would do (configuration {before['num']} -> {after['num']})")
    return f"{moved} shards moved after {what} ({'minimum' if count else 'one step could move'} {need})"


# ----- the scenarios: TestBasic ----------------------------------------------------------
async def basic_joins_leaves(h: Harness, ck: Clerk) -> list[dict[str, Any]]:
    """TestBasic's first part; returns the configurations it saw (6.824's cfa)."""
    cfa = [await ck.query(-1)]
    await check(ck, [])
    await ck.join({1: ["x", "y", "z"]})
    await check(ck, [1])
    cfa.append(await ck.query(-1))
    await ck.join({2: ["a", "b", "c"]})
    await check(ck, [1, 2])
    cfa.append(await ck.query(-1))
    cfx = await ck.query(-1)
    check_servers(cfx, 1, ["x", "y", "z"])
    check_servers(cfx, 2, ["a", "b", "c"])
    await ck.leave([1])
    await check(ck, [2])
    cfa.append(await ck.query(-1))
    await ck.leave([2])
    cfa.append(await ck.query(-1))
    if [c["num"] for c in cfa] != [0, 1, 2, 3, 4]:
        raise AssertionError(f"expected configurations 0-4 for 2 joins and 2 leaves, saw "
                             f"{[c['num'] for c in cfa]}")
    return cfa


async def basic_leave_join(h: Harness) -> str:
    cfa = await basic_joins_leaves(h, h.clerk())
    return f"{len(cfa)} configurations"


async def historical_queries(h: Harness) -> str:
    ck = h.clerk()
    cfa = await basic_joins_leaves(h, ck)
    for node in h.nodes:
        h.shutdown(node)
        for c in cfa:
            check_same_config(await ck.query(c["num"]), c, f" with {node} down")
        await h.start(node)
    return f"{len(cfa)} configurations read back with each server down in turn"


async def move(h: Harness) -> str:
    ck = h.clerk()
    await ck.join({503: ["3a", "3b", "3c"]})
    await ck.join({504: ["4a", "4b", "4c"]})
    for i in range(NSHARDS):
        cf = await ck.query(-1)
        gid = 503 if i < NSHARDS // 2 else 504
        await ck.move(i, gid)
        if cf["shards"][i] != gid:
            cf1 = await ck.query(-1)
            if cf1["num"] <= cf["num"]:
                raise AssertionError("Move should increase the configuration number")
    cf2 = await ck.query(-1)
    for i in range(NSHARDS):
        gid = 503 if i < NSHARDS // 2 else 504
        if cf2["shards"][i] != gid:
            raise AssertionError(f"expected shard {i} on gid {gid}, it is on {cf2['shards'][i]}")
    await ck.leave([503])
    await ck.leave([504])
    await check(ck, [])
    return f"{NSHARDS} moves"


async def concurrent_leave_join(h: Harness, npara: int = 10, pause: float = 0.0) -> list[int]:
    """TestBasic's concurrent part: npara clerks each join two groups and leave one
    (with `pause`, each waits up to that long before each request, so faults meet them)."""
    cka = [h.clerk() for _ in range(npara)]
    gids = [xi * 10 + 100 for xi in range(npara)]
    rng = random.Random(npara)

    async def one(ck: Clerk, gid: int) -> None:
        for step in range(3):
            if pause:
                await h.sleep(rng.uniform(0, pause))
            if step == 0:
                await ck.join({gid + 1000: [f"s{gid}a"]})
            elif step == 1:
                await ck.join({gid: [f"s{gid}b"]})
            else:
                await ck.leave([gid + 1000])

    await asyncio.gather(*(one(ck, g) for ck, g in zip(cka, gids, strict=True)))
    return gids


async def concurrent(h: Harness) -> str:
    ck = h.clerk()
    gids = await concurrent_leave_join(h)
    c = await check(ck, gids)
    if c["num"] != 3 * len(gids):
        raise AssertionError(f"{3 * len(gids)} operations made configuration {c['num']} "
                             "(an operation applied twice, or lost)")
    return f"{len(gids)} clerks at once, configuration {c['num']}"


async def minimal_after(h: Harness, what: str, multi: bool) -> str:
    """6.824's minimal-transfer tests: after the concurrent joins, five groups join (one
    by one, or in one Join for TestMulti), then leave. With 6.824's ten groups already
    holding one shard each, joining more moves nothing; so here seven of the ten leave
    first (in one Leave), and the five join three groups that hold all ten shards."""
    ck = h.clerk()
    gids = await concurrent_leave_join(h)
    c0 = await check(ck, gids)
    await ck.leave(gids[3:])
    gids = gids[:3]
    c1 = await check(ck, gids)
    check_minimal(c0, c1, "leaves")
    new = [11 + i for i in range(5)]
    if multi:
        await ck.join({g: [f"{g}a", f"{g}b"] for g in new})
    else:
        for i, g in enumerate(new):
            before = await ck.query(-1)
            await ck.join({g: [f"{g}a", f"{g}b", f"{g}b"]})
            check_minimal(before, await check(ck, gids + new[: i + 1]), "joins")
    c2 = await check(ck, gids + new)
    said = check_minimal(c1, c2, "joins", count=multi)
    if what == "joins":
        return said
    if multi:
        await ck.leave(new)
    else:
        for i, g in enumerate(new):
            before = await ck.query(-1)
            await ck.leave([g])
            check_minimal(before, await check(ck, gids + new[i + 1:]), "leaves")
    c3 = await check(ck, gids)
    return check_minimal(c2, c3, "leaves", count=multi)


# ----- TestMulti -------------------------------------------------------------------------
async def multi_join_leave(h: Harness) -> str:
    ck = h.clerk()
    await check(ck, [])
    await ck.join({1: ["x", "y", "z"], 2: ["a", "b", "c"]})
    await check(ck, [1, 2])
    await ck.join({3: ["j", "k", "l"]})
    cfx = await check(ck, [1, 2, 3])
    check_servers(cfx, 1, ["x", "y", "z"])
    check_servers(cfx, 2, ["a", "b", "c"])
    check_servers(cfx, 3, ["j", "k", "l"])
    await ck.leave([1, 3])
    cfx = await check(ck, [2])
    check_servers(cfx, 2, ["a", "b", "c"])
    await ck.leave([2])
    c = await check(ck, [])
    return f"configuration {c['num']}"


async def concurrent_multi_leave_join(h: Harness, npara: int = 10) -> list[int]:
    cka = [h.clerk() for _ in range(npara)]
    gids = [xi + 1000 for xi in range(npara)]

    async def one(ck: Clerk, gid: int) -> None:
        await ck.join({gid: [f"{gid}a", f"{gid}b", f"{gid}c"], gid + 1000: [f"{gid + 1000}a"],
                       gid + 2000: [f"{gid + 2000}a"]})
        await ck.leave([gid + 1000, gid + 2000])

    await asyncio.gather(*(one(ck, g) for ck, g in zip(cka, gids, strict=True)))
    return gids


async def concurrent_multi(h: Harness) -> str:
    ck = h.clerk()
    gids = await concurrent_multi_leave_join(h)
    c = await check(ck, gids)
    return f"{len(gids)} clerks at once, configuration {c['num']}"


async def same_config_on_servers(h: Harness) -> str:
    """TestMulti's last part: the configuration the leader gave is the one the next
    leader gives once the first is shut down (after the concurrent multi-joins)."""
    ck = h.clerk()
    gids = await concurrent_multi_leave_join(h)
    await check(ck, gids)
    leader = await h.leader()
    if leader is None and h.has_status:
        raise AssertionError("no leader found (no node's raft_status said role leader)")
    leader = leader or h.nodes[0]  # a node without raft_status: shut the clerk's first down
    c = await ck.query(-1)
    h.shutdown(leader)
    for _ in range(3):
        await h.sleep(1.0)
        if not h.has_status or await h.leader() is not None:
            break
    else:
        raise AssertionError("no new leader within 3 s of shutting the leader down")
    check_same_config(await ck.query(-1), c, f" after the leader {leader} was shut down")
    return f"{leader} shut down; its configuration {c['num']} is the new leader's"


# ----- beyond the anchor: the same scripts under faults -----------------------------------
async def concurrent_partitioned(h: Harness) -> str:
    """Concurrent leave/join while the network is cut (a minority alone, then healed) and
    a server is shut down and restarted: clerks retry elsewhere, each request once."""
    ck = h.clerk()
    rng = random.Random(7)

    async def faults() -> None:
        for _ in range(4):
            lone = rng.choice(h.nodes)
            h.partition([lone], [n for n in h.nodes if n != lone])
            await h.sleep(1.5)
            h.heal()
            victim = rng.choice(h.nodes)
            h.shutdown(victim)
            await h.sleep(1.0)
            await h.start(victim)

    async def clients() -> list[int]:
        try:
            return await concurrent_leave_join(h, pause=3.0)
        finally:
            done.set()

    async def observe() -> int:
        """Another clerk queries all along: the checker holds its answers to real time."""
        seen = 0
        watcher = h.clerk()
        while not done.is_set():
            await watcher.query(-1)
            seen += 1
            await h.sleep(0.3)
        return seen

    done = asyncio.Event()
    gids, _, seen = await asyncio.gather(clients(), faults(), observe())
    c = await check(ck, gids)
    if c["num"] != 3 * len(gids):
        raise AssertionError(f"{3 * len(gids)} operations made configuration {c['num']} "
                             "(an operation applied twice, or lost)")
    return f"4 partitions and 4 restarts; configuration {c['num']}; {seen} queries on the way"


SCENARIOS: dict[str, Script] = {
    "4a_basic_leave_join": basic_leave_join,
    "4a_historical_queries": historical_queries,
    "4a_move": move,
    "4a_concurrent_leave_join": concurrent,
    "4a_minimal_transfers_after_joins": lambda h: minimal_after(h, "joins", False),
    "4a_minimal_transfers_after_leaves": lambda h: minimal_after(h, "leaves", False),
    "4a_multi_group_join_leave": multi_join_leave,
    "4a_concurrent_multi_leave_join": concurrent_multi,
    "4a_minimal_transfers_after_multijoins": lambda h: minimal_after(h, "joins", True),
    "4a_minimal_transfers_after_multileaves": lambda h: minimal_after(h, "leaves", True),
    "4a_check_same_config_on_servers": same_config_on_servers,
    "4a_concurrent_partitioned_restarts": concurrent_partitioned,
    "4a_concurrent_unreliable": concurrent,
    "4a_concurrent_multi_unreliable": concurrent_multi,
}

UNRELIABLE = {"loss": 0.1, "duplication": 0.1}
OPTIONS: dict[str, dict[str, Any]] = {  # a scenario's run options beyond the defaults
    "4a_concurrent_unreliable": UNRELIABLE,
    "4a_concurrent_multi_unreliable": UNRELIABLE,
}


@dataclass
class Lab:
    """The node under test and how to run it (as kv-lab's Lab)."""

    bin: str = NODE_PATH
    bin_args: list[str] = field(default_factory=list)
    store: str = "store"
    mode: str = "auto"
    seed: int = 1
    runs: list[RunResult] = field(default_factory=list)

    def run(self, name: str) -> str:
        """Run one scenario; AssertionError with a sentence unless everything held."""
        opts = TestOptions(workload="shardctrler", bin=self.bin, bin_args=list(self.bin_args),
                           node_count=3, store=self.store, mode=self.mode, seed=self.seed,
                           time_limit=0.0, rate=0.0, **OPTIONS.get(name, {}))
        run_dir = new_run_dir(opts.store, opts.workload)
        opts.jitter = opts.resolved_jitter()
        config = {**asdict(opts), "bin": str(Path(opts.bin).resolve()), "scenario": name,
                  "mode": opts.resolved_mode()}  # as kv-lab's: `distlab analyze raft` orders sim runs' events
        (run_dir / "config.json").write_bytes(orjson.dumps(config, option=orjson.OPT_INDENT_2))
        runner = ScriptRunner(opts, run_dir, SCENARIOS[name], ShardCtrlerWorkload, Harness)
        result = runner.run()
        self.runs.append(result)
        if runner.failure is not None:
            raise AssertionError(str(runner.failure))
        judge(result, served=False, verdict=lambda workload: str(workload.get("explanation") or workload))
        return raft_note(runner.detail, [result.results])


def main(argv: list[str] | None = None) -> int:
    """python -m distlab.systems.shardctrler.lab [NODE [ARGS...]] [--only NAME]: every
    scenario against NODE (distlab's shardctrler when none), one line each."""
    return lab_main(argv, "python -m distlab.systems.shardctrler.lab", main.__doc__, NODE_PATH, SCENARIOS, Lab)


def lab_main(argv: list[str] | None, prog: str, doc: str | None, node: str,
             scenarios: dict[str, Any], make_lab: Callable[..., Any]) -> int:
    """A shard lab's `python -m` entry (this one's and shardkv's): each scenario of
    `scenarios` (or of --only) against a node, one ok, SKIP or FAIL line each, then a count."""
    import argparse
    import time

    parser = argparse.ArgumentParser(prog=prog, description=doc)
    parser.add_argument("node", nargs="?", default=node)
    parser.add_argument("args", nargs="*", help="the node's own arguments (after --)")
    parser.add_argument("--only", action="append", default=[], help="a scenario name (repeatable)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--store", default="store")
    opts = parser.parse_args(argv)
    failed = skipped = 0
    names = opts.only or list(scenarios)
    for name in names:
        lab = make_lab(opts.node, list(opts.args), store=opts.store, seed=opts.seed)
        t0 = time.perf_counter()
        try:
            line = f"ok    {name}: {lab.run(name)}"
        except LabSkip as exc:
            skipped += 1
            line = f"SKIP  {name}: this check {exc}"
        except AssertionError as exc:
            failed += 1
            line = f"FAIL  {name}: {exc}"
        run = f" ({lab.runs[-1].run_dir})" if lab.runs else ""
        sim = f", {lab.runs[-1].results['sim_seconds']:.1f} s simulated" if lab.runs else ""
        print(f"{line} [{time.perf_counter() - t0:.2f} s{sim}]{run if line.startswith('FAIL') else ''}",
              flush=True)
    print(f"{len(names) - failed - skipped} of {len(names)} scenarios passed"
          + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
