"""MIT 6.824's KV lab (3A fault-tolerant KV, 3B snapshots) as scenarios for any lin-kv node.

Each scenario is a short fixed-seed run of the lin-kv workload against the node (in the
simulator for a Python SDK node, as real processes otherwise) that must be linearizable
with no node errors and some operations served, plus the scenario's own check: a majority
side kept serving through a partition, kills (a majority at once among them) really
happened and the service came back, or, for 3B, that the nodes' stored state stayed
bounded and that nodes came back from snapshots and installed snapshots sent to them.

The 3B checks read what the simulator knows of each node's disk (results.json "disks")
and the `raft {...}` trace lines of distlab/systems/raft/trace.py (a "restore" line after
a start, or at any other time); when a node writes no trace lines, those checks are
skipped and said so. Whenever it does write them, Raft's safety properties are checked
in every scenario. `distlab kv-lab NODE` runs them; tests/test_kvraft_scenarios.py runs
them on distlab's own kvraft.

Two scenarios are scripted instead, as 6.824's tester is: their clerks resend a request
unchanged (same client, same msg_id) when its reply is lost, and they set up their own
faults, so that writes whose first copies are inside a snapshot are resent, on every seed,
to a node that caught up by InstallSnapshot and then leads (3b_snapshot_unreliable_lagging)
or to nodes all restarted from their stored snapshots (3b_snapshot_recover_resend). A node
whose snapshot lacks the duplicate table applies them again; one whose snapshot shares the
live table skips commands (tests/test_lab_sessions.py). Random runs almost never line
that up.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from distlab.history import FAIL, INFO, INVOKE, OK, read_jsonl
from distlab.options import TestOptions
from distlab.protocol import RPCError
from distlab.runner import Runner, RunResult, new_run_dir, run_test
from distlab.workloads.base import Workload
from distlab.workloads.lin_kv import LinKV

UNRELIABLE = {"loss": 0.1, "duplication": 0.1}
DEFAULT_MAX_STATE_BYTES = 8192


class LabSkip(Exception):
    """A check needs something the node does not provide (its Raft trace lines)."""


# what a passing scenario adds when the nodes wrote no `raft {...}` trace lines (a learner's
# node on its own Raft may write none): the verdict then says nothing of Raft's safety.
# kv-lab and shard-lab (both its labs) say it in the same words.
NO_RAFT_TRACE = "Raft safety not checked: the nodes wrote no raft trace lines"


def raft_note(detail: str, results: list[dict[str, Any]]) -> str:
    """A passing scenario's `detail`, saying that Raft safety went unchecked when any of
    its runs (their results.json) had no trace lines to check it from."""
    if any("raft_safety" not in r for r in results):
        return f"{detail}; {NO_RAFT_TRACE}"
    return detail


@dataclass
class Lab:
    """The node under test and how to run it."""

    bin: str
    bin_args: list[str] = field(default_factory=list)
    store: str = "store"
    mode: str = "auto"
    max_state_bytes: int = DEFAULT_MAX_STATE_BYTES  # 3B snapshot size: most bytes on a disk
    seed_offset: int = 0  # added to every scenario's own seed, to sweep other schedules
    runs: list[RunResult] = field(default_factory=list)  # every run made, for callers

    def lin_kv(self, seed: int, **kw: Any) -> RunResult:
        """One short lin-kv run; AssertionError unless linearizable, error-free and serving."""
        opts: dict[str, Any] = {
            "workload": "lin-kv", "node_count": 5, "time_limit": 8.0, "rate": 40.0,
            "concurrency": "2n", "nemesis_interval": 2.0, "seed": seed + self.seed_offset,
        }
        opts.update(kw)
        result = run_test(TestOptions(bin=self.bin, bin_args=list(self.bin_args),
                                      store=self.store, mode=self.mode, **opts))
        self.runs.append(result)
        judge(result)
        return result

    def script(self, name: str, seed: int, script: Script, **kw: Any
               ) -> tuple[RunResult, str, dict[str, Any]]:
        """A scripted run of the node (`script` plays the clients and the faults), judged as
        lin_kv's runs are, after the script's own checks."""
        opts = TestOptions(workload="lin-kv", bin=self.bin, bin_args=list(self.bin_args),
                           store=self.store, mode=self.mode, node_count=5, time_limit=0.0,
                           rate=0.0, seed=seed + self.seed_offset, **kw)
        run_dir = new_run_dir(opts.store, "lin-kv")
        opts.jitter = opts.resolved_jitter()
        # "scenario" marks a scripted run: `distlab replay` cannot re-run it, kv-lab can
        config = {**asdict(opts), "bin": str(Path(opts.bin).resolve()), "scenario": name,
                  "mode": opts.resolved_mode()}
        (run_dir / "config.json").write_bytes(orjson.dumps(config, option=orjson.OPT_INDENT_2))
        runner = ScriptRunner(opts, run_dir, script)
        result = runner.run()
        self.runs.append(result)
        if runner.failure is not None:
            raise AssertionError(str(runner.failure))
        judge(result)
        return result, runner.detail, runner.harness.notes


def judge(result: RunResult, *, served: bool = True,
          verdict: Callable[[dict[str, Any]], str] | None = None) -> None:
    """AssertionError unless the run was valid (by default linearizable), error-free,
    Raft-safe and, if ``served``, served some operation. ``verdict`` is the sentence for a
    workload checker's failure (default: the operation no order explains); shard-lab's
    labs judge their scripted runs with it too."""
    r = result.results
    if r.get("error"):
        raise AssertionError(f"the run ended early: {r['error']}")
    if r["workload"].get("valid") is not True:
        raise AssertionError((verdict or not_linearizable)(r["workload"]))
    if r.get("node_errors"):
        raise AssertionError(f"node errors: {r['node_errors'][0]['message']}")
    raft = r.get("raft_safety")
    if raft is not None and not raft["valid"]:
        raise AssertionError(f"raft safety: {raft['violations'][0]}")
    if served and r["stats"]["ok"] == 0:
        raise AssertionError("no operation succeeded")


def not_linearizable(workload: dict[str, Any]) -> str:
    """The checker's verdict as one sentence a learner can act on (not its JSON): the
    operation no order explains, and where the full explanation is."""
    explanation = str(workload.get("explanation") or "")
    culprit = next((line.removeprefix("cannot linearize: ").strip()
                    for line in explanation.splitlines() if line.startswith("cannot linearize: ")),
                   "")
    if workload.get("valid") is not False:
        head = "the linearizability check could not decide (it gave up on this history)"
    else:
        head = "not linearizable"
    if culprit:
        return (f"{head}: no order of the operations that respects real time explains "
                f"{culprit}; results.json's workload explanation lists the operations before it")
    first = explanation.splitlines()[0] if explanation else ""
    return f"{head}: {first}" if first else f"{head} (see results.json's workload section)"


# ----- what a run's files say ----------------------------------------------------------
def history(result: RunResult) -> list[dict[str, Any]]:
    return list(read_jsonl(result.run_dir / "history.jsonl"))


def nemesis_events(result: RunResult, f: str) -> list[dict[str, Any]]:
    """The nemesis's `f` records (one per fault start or stop), in time order."""
    return [r for r in history(result)
            if r["process"] == "nemesis" and r["type"] == "info" and r["f"] == f]


def ok_client_ops(result: RunResult, start: int, end: float = float("inf")) -> int:
    """Client operations that completed ok in [start, end) (nanoseconds)."""
    return sum(1 for r in history(result)
               if r["process"] != "nemesis" and r["type"] == "ok" and start <= r["time"] < end)


def has_connected_majority(nodes: list[str], grudge: dict[str, list[str]]) -> bool:
    """Whether some majority of nodes can all talk to each other under `grudge`."""
    quorum = len(nodes) // 2 + 1
    return any(all(b not in grudge.get(a, ()) for a in group for b in group)
               for group in itertools.combinations(nodes, quorum))


def restores(result: RunResult) -> list[tuple[str, int, bool]]:
    """(node, snapshot index, at start-up?) for every `restore` trace line: at start-up it
    came from the node's disk, at any other time from the network (InstallSnapshot)."""
    found = []
    for path in sorted((result.run_dir / "node-logs").glob("*.log")):
        just_started = False
        for line in path.read_text(errors="replace").splitlines():
            if "[distlab] started" in line:
                just_started = True
                continue
            _, is_trace, rest = line.partition("raft {")
            if not is_trace:
                continue
            event = orjson.loads("{" + rest)
            if event.get("ev") == "restore":
                found.append((path.stem, event["i"], just_started))
            just_started = False
    return found


def _needs_trace(result: RunResult) -> None:
    if "raft_safety" not in result.results:
        raise LabSkip("reads the node's raft trace lines (distlab/systems/raft/trace.py); "
                      "it wrote none")


# ----- the checks scenarios share -------------------------------------------------------
def check_kills(result: RunResult, majority: bool = True) -> str:
    """Kills happened; optionally one took down a majority at once and, once it was
    restarted, the service answered again (so the state came back from disk)."""
    kills = nemesis_events(result, "start-kill")
    if not kills:
        raise AssertionError("the nemesis killed nobody: the scenario tested nothing")
    if majority:
        nodes = orjson.loads((result.run_dir / "config.json").read_bytes())["node_count"]
        big = [k for k in kills if len(k["value"]) > nodes // 2]
        if not big:
            raise AssertionError(f"no kill of a majority: {[k['value'] for k in kills]}")
        back = [r for r in nemesis_events(result, "stop-kill") if r["time"] > big[0]["time"]]
        if not back:
            raise AssertionError("the killed majority was never restarted")
        if ok_client_ops(result, back[0]["time"]) == 0:
            raise AssertionError("nothing succeeded after the majority came back")
    return f"{len(kills)} kills"


def check_restarted_from_snapshots(result: RunResult) -> str:
    """Some node killed with a snapshot on its disk came back from it."""
    _needs_trace(result)
    from_disk = [(n, i) for n, i, at_start in restores(result) if at_start and i > 0]
    if not from_disk:
        raise AssertionError("no node restarted from a snapshot (no restore trace line "
                             "right after a start)")
    return f"{len(from_disk)} restarts from a snapshot"


def check_state_bounded(result: RunResult, limit: int) -> str:
    """Every node's durable state stayed under `limit` bytes (simulated runs)."""
    disks = result.results.get("disks")
    if not disks:
        raise LabSkip("needs the simulator's disk statistics (a Python SDK node in sim mode)")
    worst = max(d["max_bytes"] for d in disks.values())
    if worst == 0:
        raise AssertionError("no node stored anything on its disk: a Raft node must store "
                             "its term, vote and log (node.storage, synced) before it "
                             "answers, and snapshots bound that state")
    if worst > limit:
        raise AssertionError(f"a node's stored state reached {worst} bytes "
                             f"(limit {limit}: does it snapshot and trim its log?)")
    return f"largest stored state {worst} bytes"


# ----- 3A: key/value service ---------------------------------------------------------------
def basic(lab: Lab) -> str:
    lab.lin_kv(1, concurrency="1")
    return "one client"


def concurrent(lab: Lab) -> str:
    lab.lin_kv(1, concurrency="4n")
    return "4 clients a node"


def unreliable(lab: Lab) -> str:
    lab.lin_kv(1, concurrency="1n", **UNRELIABLE)
    return "10% loss, 10% duplication"


def unreliable_one_key(lab: Lab) -> str:
    result = lab.lin_kv(1, concurrency="1n", key_count=1, **UNRELIABLE)
    if result.results["workload"].get("keys") != 1:
        raise AssertionError(f"expected one key, got {result.results['workload'].get('keys')}")
    return "one key"


def one_partition(lab: Lab) -> str:
    # the check needs a majority side: every seed's partitions leave one (not a ring)
    result = lab.lin_kv(1, nemesis=["partition"], time_limit=6.0,
                        nemesis_ensure=["partition-majority"])
    first = nemesis_events(result, "start-partition")[0]
    healed = nemesis_events(result, "stop-partition")
    end = healed[0]["time"] if healed else float("inf")
    nodes = [f"n{i}" for i in range(5)]
    if not has_connected_majority(nodes, first["value"]["grudge"]):
        raise AssertionError(f"the first partition left no majority: {first['value']}")
    served = ok_client_ops(result, first["time"], end)
    if served == 0:
        raise AssertionError("the majority side served nothing during the partition")
    return f"{served} ok ops while partitioned"


def many_partitions(lab: Lab, concurrency: str) -> str:
    result = lab.lin_kv(1, concurrency=concurrency, nemesis=["partition"], nemesis_interval=1.0)
    n = result.results["nemesis_ops"].get("start-partition", 0)
    if n < 3:
        raise AssertionError(f"only {n} partitions")
    return f"{n} partitions"


# check_kills needs a killed majority restarted while the clients still run: every seed's
# schedule has one (the nemesis's "kill-majority"), not only the seed a scenario was tuned on
ENSURE_KILL = {"nemesis_ensure": ["kill-majority"]}


def persist(lab: Lab, seed: int = 1, **kw: Any) -> str:
    return check_kills(lab.lin_kv(seed, time_limit=10.0, **ENSURE_KILL, **kw))


# ----- 3B: snapshots -----------------------------------------------------------------------
# Twice the load of 3A, so a node that snapshots every hundred entries or so has compacted
# well before the first fault (6.824 sets maxraftstate to 1000 bytes for the same reason).
SNAP_LOAD = {"rate": 100.0, "time_limit": 10.0}


def snapshot_rpc(lab: Lab) -> str:
    """A node cut off while the others compact past it catches up by InstallSnapshot."""
    # every seed cuts one node off from all the others, each time for 3 s: longer than the
    # others take to apply 100 entries and compact past it (not a bridge or a ring, which
    # may leave the leader talking to everyone)
    result = lab.lin_kv(1, nemesis=["partition"], nemesis_interval=3.0,
                        nemesis_ensure=["partition-isolate-one"], **SNAP_LOAD)
    _needs_trace(result)
    sent = [(n, i) for n, i, at_start in restores(result) if not at_start]
    if not sent:
        raise AssertionError("no node installed a snapshot sent to it (no restore trace "
                             "line other than at start-up)")
    return f"{len(sent)} snapshots installed from the network"


def snapshot_size(lab: Lab) -> str:
    result = lab.lin_kv(1, concurrency="1", rate=50.0, time_limit=20.0)
    return check_state_bounded(result, lab.max_state_bytes)


def snapshot_recover(lab: Lab, seed: int = 1, **kw: Any) -> str:
    kw.setdefault("nemesis", ["kill"])
    # the killed majority must have run undisturbed until then, so that it has snapshots
    # to come back from: no kill before it, and 14 s, so that it comes 7.5-8 s in (a kill
    # must leave a client's op_timeout, 5 s, and a second before the end)
    result = lab.lin_kv(seed, **{**SNAP_LOAD, "time_limit": 14.0},
                        nemesis_ensure=["kill-majority-first"], **kw)
    return f"{check_kills(result)}; {check_restarted_from_snapshots(result)}"


def snapshot_unreliable(lab: Lab) -> str:
    result = lab.lin_kv(1, **SNAP_LOAD, **UNRELIABLE)
    return check_state_bounded(result, lab.max_state_bytes * 2)


# ----- scripted scenarios ---------------------------------------------------------------
# The runs above are random lin-kv runs; a scripted one plays 6.824's tester instead: its
# clerks number their requests and resend the very same request (same client, same
# msg_id) to another node when no answer comes, and it sets up partitions itself, so a
# case that random faults reach only by luck happens on every seed.
Script = Callable[["Tester"], Awaitable[str]]
ATTEMPT_SECONDS = 0.5  # a clerk's wait at one node before it resends to the next
OP_SECONDS = 20.0  # how long a clerk keeps resending before it gives up on an operation
DEFINITE = (20, 22)  # key does not exist, precondition failed
FATAL = {10: "not supported: no handler for it", 12: "malformed request",
         13: "crash: the handler raised"}


class ScriptRunner(Runner):
    """A run whose clients and faults are a script's (kv-lab's scripted scenarios, and
    shard-lab's with their own workload and harness): the nodes start, the script plays
    with its harness (``harness(runner)``: clerks, faults, clock; kv-lab's is a Tester
    recording lin-kv operations) to its end (its sentence: ``detail``) or its first failed
    assertion (``failure``), the network heals, and the run is checked as any other."""

    def __init__(self, opts: TestOptions, run_dir: Path, script: Callable[[Any], Awaitable[str]],
                 workload_cls: type[Workload] = LinKV,
                 harness: Callable[[ScriptRunner], Any] | None = None) -> None:
        super().__init__(opts, run_dir, workload_cls=workload_cls)
        self.script = script
        self.failure: AssertionError | None = None
        self.detail = ""
        self.make_harness = harness or Tester
        self.harness: Any = None  # made once the nodes have started

    async def _main(self) -> None:
        await asyncio.gather(*(self._start_node(n) for n in self.node_ids))
        self.harness = self.make_harness(self)
        try:
            self.detail = await self.script(self.harness)
        except AssertionError as exc:
            self.failure = exc
        self.network.heal()


@dataclass
class Request:
    """One clerk operation: lin-kv's read, write or cas, sent as often as it takes under
    one msg_id, so that a node can tell a resend from a new request."""

    f: str
    key: int
    arg: Any
    msg_id: int

    def body(self) -> dict[str, Any]:
        if self.f == "read":
            return {"type": "read", "key": self.key}
        if self.f == "write":
            return {"type": "write", "key": self.key, "value": self.arg}
        return {"type": "cas", "key": self.key, "from": self.arg[0], "to": self.arg[1]}


class Clerk:
    """6.824's clerk over lin-kv: one operation at a time, resent unchanged until answered."""

    def __init__(self, t: Tester, process: int) -> None:
        self.t = t
        self.process = process
        self.client = t.runner._new_client()
        self.msg_ids = 0

    def begin(self, f: str, key: int, arg: Any = None) -> Request:
        """Invoke an operation (in the history) without sending it yet."""
        self.msg_ids += 1
        self.t.runner.history.add(self.t.now(), self.process, INVOKE, f, [key, arg])
        return Request(f, key, arg, self.msg_ids)

    async def send(self, req: Request, nodes: list[str], seconds: float = OP_SECONDS
                   ) -> dict[str, Any] | RPCError | None:
        """Send `req` to `nodes` in turn until one answers: its reply, a definite error, or
        None if none answered within `seconds`. Nothing is recorded."""
        r = self.t.runner
        deadline = self.t.now() + seconds
        i = self.process  # clerks start at different nodes
        while self.t.now() < deadline:
            node = nodes[i % len(nodes)]
            i += 1
            r._client_msg_ids[self.client] = req.msg_id - 1  # the runner numbers it: req.msg_id
            try:
                return await r.call(self.client, node, req.body(),
                                    min(ATTEMPT_SECONDS, max(0.01, deadline - self.t.now())))
            except RPCError as exc:
                if exc.code in DEFINITE:
                    return exc
                if exc.code in FATAL:
                    raise AssertionError(f"{node} answered {req.f} of key {req.key} with error "
                                         f"{exc.code} ({FATAL[exc.code]}): {exc.text}") from None
                if exc.code != 0:  # an error answer comes at once: do not spin on it
                    await asyncio.sleep(0.05)
        return None

    def end(self, req: Request, reply: dict[str, Any] | RPCError | None) -> None:
        """Record the operation's outcome: ok, a definite failure, or unknown (info)."""
        r = self.t.runner
        if isinstance(reply, RPCError):
            r.history.add(self.t.now(), self.process, FAIL, req.f, [req.key, req.arg],
                          error=[reply.code, reply.text])
        elif reply is None:
            r.history.add(self.t.now(), self.process, INFO, req.f, [req.key, req.arg],
                          error=[0, "no node answered"])
        else:
            value = reply.get("value") if req.f == "read" else req.arg
            r.history.add(self.t.now(), self.process, OK, req.f, [req.key, value])

    async def do(self, f: str, key: int, arg: Any, nodes: list[str]) -> dict[str, Any] | RPCError | None:
        req = self.begin(f, key, arg)
        reply = await self.send(req, nodes)
        self.end(req, reply)
        return reply


class Tester:
    """What a script may do: clerks, partitions (recorded as the nemesis's), sleeping."""

    def __init__(self, runner: ScriptRunner) -> None:
        self.runner = runner
        self.rng = random.Random(f"{runner.opts.seed}/script")
        self.clerks = 0
        self.notes: dict[str, Any] = {}  # what the script wants the scenario to know after

    def now(self) -> float:
        return self.runner.loop.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def clerk(self) -> Clerk:
        self.clerks += 1
        return Clerk(self, self.clerks - 1)

    def partition(self, shape: str, cut: dict[str, list[str]]) -> None:
        """Cut links: cut[a] lists the nodes a hears nothing from (Jepsen's grudge)."""
        grudge = {a: sorted(b) for a, b in sorted(cut.items()) if b}
        self.runner.network.partition({a: frozenset(b) for a, b in grudge.items()})
        self.runner.record("start-partition", {"shape": shape, "grudge": grudge})

    def heal(self) -> None:
        self.runner.network.heal()
        self.runner.record("stop-partition", "network healed")

    def kill(self, nodes: list[str]) -> None:
        """Crash the nodes (what they had not synced is lost), as the kill fault does."""
        for n in nodes:
            self.runner.crash(n)
        self.runner.record("start-kill", list(nodes))

    async def restart(self, nodes: list[str]) -> None:
        for n in nodes:
            await self.runner.restart(n)
        self.runner.record("stop-kill", list(nodes))


@dataclass
class LostReplies:
    """Writes applied whose clerks never heard the answer, each read back and written over
    by other clerks (so the history pins each before its overwrite), and filler writes."""

    lost: list[tuple[Clerk, Request]] = field(default_factory=list)
    seen: dict[int, Any] = field(default_factory=dict)  # key -> what the read after it saw
    over: dict[int, int] = field(default_factory=dict)  # key -> the overwrite, acknowledged
    # each filler key's last write; None once a write's outcome is unknown (it may yet apply)
    last: dict[int, int | None] = field(default_factory=dict)
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    async def make(self, t: Tester, nodes: list[str]) -> None:
        for key in (1, 2, 3):  # a clerk each: a clerk has one request outstanding at a time
            ck = t.clerk()
            req = ck.begin("write", key, next(self.counter))
            if isinstance(await ck.send(req, nodes), dict):  # applied; the clerk never hears
                self.lost.append((ck, req))
            else:
                ck.end(req, None)
        if not self.lost:
            raise AssertionError("none of three writes was answered (a majority of the nodes "
                                 "could talk to each other)")
        reader, writer = t.clerk(), t.clerk()
        for _, req in self.lost:
            reply = await reader.do("read", req.key, None, nodes)
            self.seen[req.key] = reply.get("value") if isinstance(reply, dict) else None
            value = next(self.counter)
            if isinstance(await writer.do("write", req.key, value, nodes), dict):
                self.over[req.key] = value

    async def fill(self, t: Tester, nodes: list[str]) -> None:
        """320 writes by 8 clerks to 32 keys: enough for any node to compact its log."""

        async def one(ck: Clerk, base: int) -> None:
            for i in range(40):
                key, value = base + i % 4, next(self.counter)
                reply = await ck.do("write", key, value, nodes)
                ok = isinstance(reply, dict) and self.last.get(key, 0) is not None
                self.last[key] = value if ok else None

        await asyncio.gather(*(one(t.clerk(), 100 + 10 * c) for c in range(8)))

    async def resend(self, t: Tester, nodes: list[str], reader: Clerk,
                     answered: Callable[[Any], Any]) -> list[tuple[Clerk, Request]]:
        """Each clerk resends its write (same msg_id) and `reader` reads the key: the writes
        the read shows applied a second time (the overwrite undone)."""
        twice = []
        for ck, req in self.lost:
            reply = await ck.send(req, nodes)
            ck.end(req, reply)
            answered(reply)
            got = answered(await reader.do("read", req.key, None, nodes))
            value = got.get("value") if isinstance(got, dict) else None
            if self.seen.get(req.key) == req.arg and req.key in self.over and value == req.arg:
                twice.append((ck, req))
        return twice

    def applied_twice(self, ck: Clerk, req: Request, meanwhile: str) -> AssertionError:
        return AssertionError(
            f"a write was applied a second time: {ck.client}'s write of {req.arg} to key "
            f"{req.key} was applied and read, {self.over[req.key]} was written over it, then "
            f"{meanwhile}, then {ck.client} resent the write (same msg_id: its reply had been "
            f"lost) and key {req.key} read {req.arg} again. A resend must be answered from the "
            f"duplicate table (each client's last msg_id and reply): does the snapshot carry "
            f"it, and does restoring one restore it?")


async def lagging_install(t: Tester) -> str:
    """6.824's lost-reply case across a snapshot: a node is cut off while the others apply
    writes and compact their logs; clerks' writes are applied there but their replies lost.
    Healed, the lagging node catches up by InstallSnapshot, then becomes the only node that
    can lead (the others hear only it). The clerks resend their writes, same msg_id, to it:
    a node that restored the data but not the duplicate table applies them again."""
    nodes = list(t.runner.node_ids)
    lagging = t.rng.choice(nodes)
    rest = [n for n in nodes if n != lagging]
    t.notes["lagging"] = lagging
    if not isinstance(await t.clerk().do("write", 0, 0, nodes), dict):
        raise AssertionError("the cluster answered no write in its first "
                             f"{OP_SECONDS:g} s, with no fault yet")
    t.partition("isolate-one", {lagging: rest, **{n: [lagging] for n in rest}})
    await t.sleep(1.0)  # if it was leading, the others elect a leader of their own
    w = LostReplies()
    await w.make(t, rest)
    await w.fill(t, rest)
    t.heal()
    t.notes["healed"] = t.now()
    await t.sleep(2.0)  # the lagging node catches up: by snapshot, its log being compacted away
    t.partition("star", {n: [m for m in rest if m != n] for n in rest})
    await t.sleep(3.0)  # the others hear only it: it alone can gather a majority, and leads

    def answered(reply: dict[str, Any] | RPCError | None) -> dict[str, Any] | RPCError:
        if reply is None:  # the history says the outcome is unknown; the scenario stops here
            t.heal()
            raise AssertionError(
                f"{lagging} answered nothing in {OP_SECONDS:g} s while it was the only node "
                "that could gather a majority (the other four heard only it): was it elected? "
                "A leader cut off from a majority must step down (check-quorum), and a node "
                "that hears of a higher term must take it up")
        return reply

    reader = t.clerk()
    twice = await w.resend(t, [lagging], reader, answered)
    behind = []
    for key, value in sorted(w.last.items()):
        got = answered(await reader.do("read", key, None, [lagging]))
        if value is not None and isinstance(got, dict) and got.get("value") != value:
            behind.append((key, got.get("value"), value))
    t.heal()
    await t.sleep(0.5)
    if twice:
        raise w.applied_twice(*twice[0], f"{lagging}, cut off while the others compacted their "
                                         "logs, caught up and was the only node able to lead")
    if behind:
        key, got, want = behind[0]
        raise AssertionError(
            f"a write was skipped: key {key} read {got} at {lagging}, which had caught up and "
            f"led, but {want} had been written to it last (acknowledged before {lagging} caught "
            f"up); {len(behind)} keys like it. Is the snapshot a copy? A session table shared "
            f"with the live one runs ahead of the snapshot's data, and a node that installs it "
            f"skips commands it never applied.")
    return f"{len(w.lost)} resent writes answered once by {lagging}, {len(w.last)} keys read there"


async def restart_resend(t: Tester) -> str:
    """The same lost replies across a restart: once every node has compacted its log past
    the writes, every node is killed and restarted, so each comes back from its own stored
    snapshot. The resends must be answered from the duplicate table read back from disk."""
    nodes = list(t.runner.node_ids)
    t.notes["nodes"] = nodes
    if not isinstance(await t.clerk().do("write", 0, 0, nodes), dict):
        raise AssertionError("the cluster answered no write in its first "
                             f"{OP_SECONDS:g} s, with no fault yet")
    w = LostReplies()
    await w.make(t, nodes)
    await w.fill(t, nodes)
    await t.sleep(1.0)  # the followers apply (and compact) what the leader committed last
    t.kill(nodes)
    await t.sleep(0.5)
    await t.restart(nodes)

    def answered(reply: dict[str, Any] | RPCError | None) -> dict[str, Any] | RPCError:
        if reply is None:
            raise AssertionError(f"no node answered in {OP_SECONDS:g} s after all five were "
                                 "restarted (each from its stored snapshot and log)")
        return reply

    twice = await w.resend(t, nodes, t.clerk(), answered)
    if twice:
        raise w.applied_twice(*twice[0], "every node was killed and restarted from its stored "
                                         "snapshot")
    return f"{len(w.lost)} resent writes answered once after every node restarted"


async def clerks_in_step(t: Tester) -> str:
    """Duplicate detection keys on (client, msg_id), not msg_id alone: five clerks, one a
    node, each write then read their own key in step, so their requests carry the same
    msg_ids at the same moments. A node whose duplicate table is keyed by msg_id takes the
    second clerk's write for a resend of the first's, and the read after it shows the old
    value."""
    nodes = list(t.runner.node_ids)
    first = t.clerk()
    for key in range(1, len(nodes) + 1):  # every key exists: a read of a missing key fails
        if not isinstance(await first.do("write", key, 0, nodes), dict):
            raise AssertionError("the cluster answered no write in its first "
                                 f"{OP_SECONDS:g} s, with no fault yet")
    clerks = [t.clerk() for _ in nodes]

    async def one(ck: Clerk, key: int) -> None:
        for round_ in range(1, 6):
            await ck.do("write", key, 100 * key + round_, nodes)
            await ck.do("read", key, None, nodes)

    await asyncio.gather(*(one(ck, 1 + i) for i, ck in enumerate(clerks)))
    return f"{len(clerks)} clerks with the same msg_ids"


async def paused_leader(t: Tester) -> str:
    """A read must be confirmed by a majority, even at a node that believes it leads. Each
    node in turn is frozen (a long GC pause), cut off, and a new value is written through
    the others; thawed, still cut off, it is asked to read the key at once. A leader that
    answers reads from its own state, without a ReadIndex round or the log, answers with
    the old value before it notices it was deposed."""
    nodes = list(t.runner.node_ids)
    writer, reader = t.clerk(), t.clerk()
    answered = 0
    for k, x in enumerate(nodes):
        key = 10 + k
        if not isinstance(await writer.do("write", key, 1, nodes), dict):
            raise AssertionError(f"no node answered a write of key {key} in {OP_SECONDS:g} s "
                                 "with every node connected")
        await t.sleep(0.3)  # every node has applied it
        rest = [n for n in nodes if n != x]
        t.runner.pause(x)
        t.runner.record("start-pause", [x])
        t.partition("isolate-one", {x: rest, **{n: [x] for n in rest}})
        await t.sleep(1.5)  # if x led, the others elect a leader of their own
        if not isinstance(await writer.do("write", key, 2, rest), dict):
            raise AssertionError(f"the four nodes other than {x} answered no write of key {key} "
                                 f"in {OP_SECONDS:g} s: a majority must keep serving")
        t.runner.resume(x)
        t.runner.record("stop-pause", [x])
        req = reader.begin("read", key)
        reply = await reader.send(req, [x], seconds=0.3)
        reader.end(req, reply)
        answered += isinstance(reply, dict)
        t.heal()
        await t.sleep(1.0)
    return f"{len(nodes)} nodes paused and cut off in turn, {answered} reads answered by them"

def clerks_same_ids(lab: Lab) -> str:
    return lab.script("3a_clerks_same_ids", 1, clerks_in_step)[1]


def paused_leader_reads(lab: Lab) -> str:
    return lab.script("3a_paused_leader_reads", 1, paused_leader)[1]


async def deposed_leader_write(t: Tester) -> str:
    """A write's answer must come from that write being applied, not from whatever entry
    ends up at the log index it was given. Each node in turn is frozen and cut off while
    the others elect a leader and write several entries; thawed, still cut off and still
    believing it leads, it is sent two writes, which it appends at indexes the others have
    already filled; then the network heals and its entries there are replaced. A node
    that answers a waiting client when *some* entry applies at that index acknowledges a
    write that never happened."""
    nodes = list(t.runner.node_ids)
    filler, reader = t.clerk(), t.clerk()
    writers = [t.clerk(), t.clerk()]  # two writes: a new leader's first entry is its no-op
    acked = 0
    for k, x in enumerate(nodes):
        keys = [20 + 2 * k, 21 + 2 * k]  # a key each: the reads then pin each write down
        for key in keys:
            if not isinstance(await filler.do("write", key, 0, nodes), dict):
                raise AssertionError(f"no node answered a write of key {key} in "
                                     f"{OP_SECONDS:g} s with every node connected")
        await t.sleep(0.3)
        rest = [n for n in nodes if n != x]
        t.runner.pause(x)
        t.runner.record("start-pause", [x])
        t.partition("isolate-one", {x: rest, **{n: [x] for n in rest}})
        await t.sleep(1.5)  # if x led, the others elect a leader of their own
        for i in range(3):  # entries at the indexes x will hand out next
            if not isinstance(await filler.do("write", 90 + k, i, rest), dict):
                raise AssertionError(f"the four nodes other than {x} answered no write in "
                                     f"{OP_SECONDS:g} s: a majority must keep serving")
        t.runner.resume(x)
        t.runner.record("stop-pause", [x])
        reqs = [w.begin("write", key, 1) for w, key in zip(writers, keys, strict=True)]
        sending = [asyncio.ensure_future(w.send(req, [x], seconds=3.0))
                   for w, req in zip(writers, reqs, strict=True)]
        await t.sleep(0.1)  # x has taken the writes, if it still believes it leads
        t.heal()
        for w, req, task in zip(writers, reqs, sending, strict=True):
            reply = await task
            w.end(req, reply)
            acked += isinstance(reply, dict)
        for key in keys:
            await reader.do("read", key, None, nodes)
        await t.sleep(0.5)
    return f"{len(nodes)} nodes deposed in turn, {acked} writes sent to them acknowledged"


def deposed_leader_writes(lab: Lab) -> str:
    return lab.script("3a_deposed_leader_writes", 1, deposed_leader_write)[1]


async def unheard_write(t: Tester) -> str:
    """Error 11 promises that the request did not happen: a node may give it only while
    no copy of the request can be in any log. Each node in turn is made deaf (it hears
    nothing from the others; they still hear it) and sent a write, which reaches the
    others' logs through it and commits there; the deaf node never learns the outcome.
    Its answer, after its deadline, must say the outcome is unknown (error 0), not that
    the write failed (error 11): the write is then read back."""
    nodes = list(t.runner.node_ids)
    filler, reader = t.clerk(), t.clerk()
    unknown = 0
    for k, x in enumerate(nodes):
        key = 40 + k
        if not isinstance(await filler.do("write", key, 0, nodes), dict):
            raise AssertionError(f"no node answered a write of key {key} in {OP_SECONDS:g} s "
                                 "with every node connected")
        await t.sleep(0.5)
        t.partition("deaf-one", {x: [n for n in nodes if n != x]})
        ck = t.clerk()
        req = ck.begin("write", key, 1)
        t.runner._client_msg_ids[ck.client] = req.msg_id - 1
        try:
            reply: dict[str, Any] | RPCError | None = await t.runner.call(
                ck.client, x, req.body(), OP_SECONDS)
        except RPCError as exc:
            # 11 is a definite failure (recorded as one); any other error leaves it unknown
            reply = exc if exc.code in (11, *DEFINITE) else None
        ck.end(req, reply)
        unknown += reply is None
        t.heal()
        await t.sleep(1.0)
        await reader.do("read", key, None, nodes)
    return f"{len(nodes)} writes sent to a deaf node, {unknown} answered as unknown"


def deaf_node_writes(lab: Lab) -> str:
    return lab.script("3a_deaf_node_writes", 1, unheard_write)[1]


async def cas_resend(t: Tester) -> str:
    """Every kind of request is applied once, a cas too: a clerk's cas is applied but its
    reply lost; the value is read, written back to what the cas expected, and then the
    clerk resends the cas unchanged (same msg_id). A node that looks up only writes in its
    duplicate table applies the cas a second time, and the write in between is undone."""
    nodes = list(t.runner.node_ids)
    filler, reader = t.clerk(), t.clerk()
    for key in (50, 51, 52):
        if not isinstance(await filler.do("write", key, 0, nodes), dict):
            raise AssertionError("the cluster answered no write in its first "
                                 f"{OP_SECONDS:g} s, with no fault yet")
        ck = t.clerk()
        req = ck.begin("cas", key, [0, 1])
        if not isinstance(await ck.send(req, nodes), dict):  # applied; the clerk never hears
            raise AssertionError(f"no node answered a cas of key {key} in {OP_SECONDS:g} s "
                                 "with every node connected")
        await reader.do("read", key, None, nodes)
        await filler.do("write", key, 0, nodes)
        ck.end(req, await ck.send(req, nodes))  # the resend, as 6.824's clerk makes it
        await reader.do("read", key, None, nodes)
    return "3 cas requests resent after they were applied and written over"


def resent_cas(lab: Lab) -> str:
    return lab.script("3a_resent_cas", 1, cas_resend)[1]


def snapshot_unreliable_lagging(lab: Lab) -> str:
    """The lagging node of `lagging_install` must have installed a snapshot (when its trace
    lines say so): otherwise the scenario did not test what it is for."""
    result, detail, notes = lab.script("3b_snapshot_unreliable_lagging", 1, lagging_install,
                                       **UNRELIABLE)
    if "raft_safety" not in result.results:
        # the resends were answered once, but with no trace nobody knows whether a snapshot
        # was installed at all: a pass would claim what was never tested
        raise LabSkip(f"reads the node's raft trace lines to see that the lagging node installed a "
                      f"snapshot, and it wrote none ({detail})")
    lagging = notes["lagging"]
    sent = restored_since(result, lagging, notes.get("healed", 0.0))
    if not sent:
        raise AssertionError(f"{lagging}, cut off while the others wrote for seconds, caught up "
                             "without installing a snapshot: do the nodes compact their logs?")
    return f"{detail}; it installed a snapshot at index {sent[-1]}"


def snapshot_recover_resend(lab: Lab) -> str:
    """`restart_resend`, and every node must have come back from a snapshot (when its trace
    lines say so): otherwise the resends tested no snapshot."""
    result, detail, notes = lab.script("3b_snapshot_recover_resend", 1, restart_resend,
                                       **UNRELIABLE)
    if "raft_safety" not in result.results:
        raise LabSkip(f"reads the node's raft trace lines to see that the nodes came back from "
                      f"snapshots, and they wrote none ({detail})")
    back = {n for n, i, at_start in restores(result) if at_start and i > 0}
    missing = [n for n in notes["nodes"] if n not in back]
    if missing:
        raise AssertionError(f"{', '.join(missing)} restarted without a snapshot after hundreds "
                             "of writes: do the nodes compact their logs?")
    return f"{detail}, {len(back)} of them from a snapshot"


def restored_since(result: RunResult, node: str, since: float) -> list[int]:
    """The snapshot indexes `node` restored (its `restore` trace lines) at or after time
    `since` (seconds, as its log lines are stamped): here, after the network healed, so
    sent to it whether or not it had written a trace line since it started."""
    found = []
    path = result.run_dir / "node-logs" / f"{node}.log"
    for line in path.read_text(errors="replace").splitlines():
        stamp, is_trace, rest = line.partition(" raft {")
        if not is_trace:
            continue
        try:
            at = float(stamp.split()[-1])
        except (ValueError, IndexError):
            continue
        event = orjson.loads("{" + rest)
        if event.get("ev") == "restore" and at >= since:
            found.append(event["i"])
    return found


SCENARIOS: dict[str, Callable[[Lab], str]] = {
    "3a_basic": basic,
    "3a_concurrent": concurrent,
    "3a_unreliable": unreliable,
    "3a_unreliable_one_key": unreliable_one_key,
    "3a_clerks_same_ids": clerks_same_ids,
    "3a_resent_cas": resent_cas,
    "3a_one_partition": one_partition,
    "3a_paused_leader_reads": paused_leader_reads,
    "3a_deposed_leader_writes": deposed_leader_writes,
    "3a_deaf_node_writes": deaf_node_writes,
    "3a_many_partitions_one_client": lambda lab: many_partitions(lab, "1"),
    "3a_many_partitions_many_clients": lambda lab: many_partitions(lab, "4n"),
    # one client, bound to one node: under seed 1's schedule that node is down each time
    # the client comes back to it after the majority's restart, so nothing can succeed
    "3a_persist_one_client": lambda lab: persist(lab, seed=2, concurrency="1", nemesis=["kill"]),
    "3a_persist_concurrent": lambda lab: persist(lab, nemesis=["kill"]),
    "3a_persist_concurrent_unreliable": lambda lab: persist(lab, nemesis=["kill"], **UNRELIABLE),
    "3a_persist_partition": lambda lab: persist(lab, nemesis=["kill", "partition"]),
    "3a_persist_partition_unreliable": lambda lab: persist(
        lab, nemesis=["kill", "partition"], **UNRELIABLE),
    "3a_persist_partition_unreliable_linearizable": lambda lab: persist(
        lab, 4, concurrency="3n", nemesis=["kill", "partition", "loss"], nemesis_interval=1.5,
        **UNRELIABLE),
    "3b_snapshot_rpc": snapshot_rpc,
    "3b_snapshot_size": snapshot_size,
    "3b_snapshot_recover": snapshot_recover,
    "3b_snapshot_recover_many_clients": lambda lab: snapshot_recover(lab, concurrency="4n"),
    "3b_snapshot_unreliable": snapshot_unreliable,
    "3b_snapshot_unreliable_recover": lambda lab: snapshot_recover(lab, **UNRELIABLE),
    "3b_snapshot_unreliable_recover_concurrent_partition": lambda lab: snapshot_recover(
        lab, nemesis=["kill", "partition"], **UNRELIABLE),
    "3b_snapshot_unreliable_recover_concurrent_partition_linearizable": lambda lab: (
        snapshot_recover(lab, seed=5, concurrency="3n", nemesis=["kill", "partition", "loss"],
                         nemesis_interval=1.5, **UNRELIABLE)),
    "3b_snapshot_unreliable_lagging": snapshot_unreliable_lagging,
    "3b_snapshot_recover_resend": snapshot_recover_resend,
}


def run_scenario(lab: Lab, name: str) -> str:
    """Scenario `name` on `lab`: its detail, which says so when Raft safety went unchecked
    (a pass must not read as a checked Raft); AssertionError or LabSkip as the scenario's."""
    first = len(lab.runs)
    detail = SCENARIOS[name](lab)
    return raft_note(detail, [run.results for run in lab.runs[first:]])


SCRIPTED = frozenset({"3b_snapshot_unreliable_lagging", "3b_snapshot_recover_resend",
                      "3a_clerks_same_ids", "3a_paused_leader_reads", "3a_deposed_leader_writes",
                      "3a_deaf_node_writes", "3a_resent_cas"})  # run by a script: no `distlab replay`

