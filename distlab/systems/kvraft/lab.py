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
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from distlab.history import read_jsonl
from distlab.options import TestOptions
from distlab.runner import RunResult, run_test

UNRELIABLE = {"loss": 0.1, "duplication": 0.1}
DEFAULT_MAX_STATE_BYTES = 8192


class LabSkip(Exception):
    """A check needs something the node does not provide (its Raft trace lines)."""


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
        r = result.results
        if r.get("error"):
            raise AssertionError(f"the run ended early: {r['error']}")
        if r["workload"].get("valid") is not True:
            raise AssertionError(not_linearizable(r["workload"]))
        if r.get("node_errors"):
            raise AssertionError(f"node errors: {r['node_errors'][0]['message']}")
        raft = r.get("raft_safety")
        if raft is not None and not raft["valid"]:
            raise AssertionError(f"raft safety: {raft['violations'][0]}")
        if r["stats"]["ok"] == 0:
            raise AssertionError("no operation succeeded")
        return result


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
    result = lab.lin_kv(1, nemesis=["partition"], time_limit=6.0)
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


def persist(lab: Lab, seed: int = 1, **kw: Any) -> str:
    return check_kills(lab.lin_kv(seed, time_limit=10.0, **kw))


# ----- 3B: snapshots -----------------------------------------------------------------------
# Twice the load of 3A, so a node that snapshots every hundred entries or so has compacted
# well before the first fault (6.824 sets maxraftstate to 1000 bytes for the same reason).
SNAP_LOAD = {"rate": 100.0, "time_limit": 10.0}


def snapshot_rpc(lab: Lab) -> str:
    """A node cut off while the others compact past it catches up by InstallSnapshot."""
    result = lab.lin_kv(1, nemesis=["partition"], **SNAP_LOAD)
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
    result = lab.lin_kv(seed, **SNAP_LOAD, **kw)
    return f"{check_kills(result)}; {check_restarted_from_snapshots(result)}"


def snapshot_unreliable(lab: Lab) -> str:
    result = lab.lin_kv(1, **SNAP_LOAD, **UNRELIABLE)
    return check_state_bounded(result, lab.max_state_bytes * 2)


SCENARIOS: dict[str, Callable[[Lab], str]] = {
    "3a_basic": basic,
    "3a_concurrent": concurrent,
    "3a_unreliable": unreliable,
    "3a_unreliable_one_key": unreliable_one_key,
    "3a_one_partition": one_partition,
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
}

