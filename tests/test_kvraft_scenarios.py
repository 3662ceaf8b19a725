"""MIT 6.824's KV lab scenarios (3A fault-tolerant KV, 3B snapshots) against kvraft.

Each test is named after the 6.824 test whose intent it reproduces (the code is our own):
a short, fixed-seed simulated run of distlab/systems/kvraft/node.py under the lin-kv
workload that must be linearizable, plus the scenario's own extra check where it has one
(a majority side kept serving, kills really happened, a snapshot was installed over the
network, the persisted log stayed bounded). Every run here is checked for
linearizability, so the "..._linearizable" variants differ only in load and faults, and
for Raft's safety properties at every step, from the trace lines the nodes write
(distlab/systems/raft/trace.py).

"One client" is a single sequential client (concurrency "1"); "many clients" is 4 per
node. Unreliable means 10% message loss and 10% duplication on every server link.
"""

from __future__ import annotations

import itertools
from typing import Any

import orjson
import pytest

from distlab.history import read_jsonl
from distlab.systems.kvraft import NODE_PATH
from distlab.systems.raft.trace import check_logs

UNRELIABLE = {"loss": 0.1, "duplication": 0.1}
SNAPSHOT_EVERY = 20  # small, so 3B runs compact the log many times


def lin_kv(simulate: Any, seed: int, **kw: Any) -> Any:
    """A short simulated kvraft run; fails the test unless it is linearizable."""
    opts: dict[str, Any] = {
        "workload": "lin-kv", "node_count": 5, "time_limit": 8.0, "rate": 40.0,
        "concurrency": "2n", "nemesis_interval": 2.0, "seed": seed,
    }
    opts.update(kw)
    result = simulate(NODE_PATH, **opts)
    stats = result.results["stats"]
    print(f"seed={seed} valid={result.valid} ops={stats['count']} ok={stats['ok']} "
          f"ok_fraction={result.results['availability']['ok_fraction']} "
          f"nemesis={result.results['nemesis_ops']}")
    assert result.valid is True, result.results.get("workload")
    assert result.results["workload"]["valid"] is True
    assert not result.results.get("node_errors")
    assert stats["ok"] > 0
    assert_raft_safe(result)
    return result


def assert_raft_safe(result: Any) -> None:
    """Raft's safety properties at every step of the run, from the nodes' trace lines."""
    report = check_logs(result.run_dir, ordered=result.results["mode"] == "sim")
    print(f"raft trace: {report.leaders} elections, {report.applied} applies, "
          f"{report.restores} restores")
    assert report.violations == []
    assert report.leaders >= 1 and report.applied > 0
    assert result.results["raft_safety"]["valid"] is True  # the runner checked it too


def history(result: Any) -> list[dict[str, Any]]:
    return list(read_jsonl(result.run_dir / "history.jsonl"))


def nemesis_events(result: Any, f: str) -> list[dict[str, Any]]:
    """The nemesis's `f` records (one per fault start or stop), in time order."""
    return [r for r in history(result)
            if r["process"] == "nemesis" and r["type"] == "info" and r["f"] == f]


def ok_client_ops(result: Any, start: int, end: float = float("inf")) -> int:
    """Client operations that completed ok in [start, end) (nanoseconds of sim time)."""
    return sum(1 for r in history(result)
               if r["process"] != "nemesis" and r["type"] == "ok" and start <= r["time"] < end)


def raft_sends(result: Any, kind: str) -> list[dict[str, Any]]:
    """Every Raft message of `kind` (a RaftCore Message.kind) sent during the run."""
    needle = b'"k":"' + kind.encode() + b'"'
    sent = []
    with open(result.run_dir / "messages.jsonl", "rb") as f:
        for line in f:
            if needle not in line:
                continue
            ev = orjson.loads(line)
            body = ev.get("body", {})
            if ev["ev"] == "send" and body.get("type") == "raft" and body["m"]["k"] == kind:
                sent.append(ev)
    return sent


def has_connected_majority(nodes: list[str], grudge: dict[str, list[str]]) -> bool:
    """Whether some majority of nodes can all talk to each other under `grudge`."""
    quorum = len(nodes) // 2 + 1
    for group in itertools.combinations(nodes, quorum):
        if all(b not in grudge.get(a, ()) for a in group for b in group):
            return True
    return False


def assert_kills(result: Any, majority: bool = True) -> None:
    """Kills happened (the nemesis's count and the nodes' own logs agree); optionally one
    of them took down a majority at once, so the state had to come back from disk."""
    kills = nemesis_events(result, "start-kill")
    assert kills and result.results["nemesis_ops"].get("start-kill", 0) == len(kills)
    crashed = sum(p.read_text().count("[distlab] crashed")
                  for p in (result.run_dir / "node-logs").glob("*.log"))
    assert crashed == sum(len(k["value"]) for k in kills)
    if majority:
        nodes = orjson.loads((result.run_dir / "config.json").read_bytes())["node_count"]
        big = [k for k in kills if len(k["value"]) > nodes // 2]
        assert big, f"no kill of a majority: {[k['value'] for k in kills]}"
        restarts = [r for r in nemesis_events(result, "stop-kill") if r["time"] > big[0]["time"]]
        assert restarts, "the majority was never restarted"
        assert ok_client_ops(result, restarts[0]["time"]) > 0, "no progress after the restart"


# ----- persisted-state observation (3B) ----------------------------------------------
RAFT_FIXED_KEYS = 3  # raft/hard, raft/snap, raft/last: the rest of a node's disk is its log


def final_disks(result: Any) -> dict[str, dict[str, Any]]:
    """Each node's durable storage at the end of the run (run_dir/disks/<node>.json)."""
    return {p.stem: orjson.loads(p.read_bytes()) for p in (result.run_dir / "disks").glob("*.json")}


def restarts_from_snapshots(result: Any) -> list[tuple[str, int]]:
    """(node, snapshot index) for every restart whose first Raft trace line is a restore:
    the node came back from a snapshot on its disk, not from an empty state and a log."""
    found = []
    for path in sorted((result.run_dir / "node-logs").glob("*.log")):
        restarted = False
        for line in path.read_text().splitlines():
            if "[distlab] started (incarnation" in line:
                restarted = "(incarnation 1)" not in line
                continue
            _, raft_line, rest = line.partition("raft {")
            if restarted and raft_line:
                event = orjson.loads("{" + rest)
                if event["ev"] == "restore":
                    found.append((path.stem, event["i"]))
                restarted = False
    return found


def assert_recovered_from_snapshots(result: Any) -> None:
    """Every node persisted snapshots, and some killed node restarted from one."""
    assert all("raft/snap" in disk for disk in final_disks(result).values())
    restarts = restarts_from_snapshots(result)
    print("restarts from a snapshot (node, index):", restarts)
    assert any(index > 0 for _, index in restarts), restarts


def assert_snapshots_bound_log(result: Any, every: int, slack: int) -> None:
    """Every node persisted a snapshot, and its disk never held more than every + slack
    log entries (the simulator keeps each disk's high-water mark of keys)."""
    disks = final_disks(result)
    stats = result.results["disks"]
    print("most keys ever on each disk:", {n: s["max_keys"] for n, s in stats.items()})
    assert set(disks) == set(stats) and disks
    for node, disk in disks.items():
        assert "raft/snap" in disk, node
        assert stats[node]["max_keys"] <= every + slack + RAFT_FIXED_KEYS, (node, stats[node])


# ----- 3A: key/value service without snapshots ---------------------------------------
def test_3a_basic(simulate: Any) -> None:
    lin_kv(simulate, 1, concurrency="1")


def test_3a_concurrent(simulate: Any) -> None:
    lin_kv(simulate, 1, concurrency="4n")


def test_3a_unreliable(simulate: Any) -> None:
    lin_kv(simulate, 1, concurrency="1n", **UNRELIABLE)


def test_3a_unreliable_one_key(simulate: Any) -> None:
    result = lin_kv(simulate, 1, concurrency="1n", key_count=1, **UNRELIABLE)
    assert result.results["workload"]["keys"] == 1


def test_3a_one_partition(simulate: Any) -> None:
    result = lin_kv(simulate, 1, nemesis=["partition"], time_limit=6.0)
    first = nemesis_events(result, "start-partition")[0]
    healed = nemesis_events(result, "stop-partition")
    end = healed[0]["time"] if healed else float("inf")
    nodes = [f"n{i}" for i in range(5)]
    assert has_connected_majority(nodes, first["value"]["grudge"]), first["value"]
    served = ok_client_ops(result, first["time"], end)
    print(f"partition {first['value']['shape']}: {served} ok ops while it lasted")
    assert served > 0, "the majority side served nothing during the partition"


def test_3a_many_partitions_one_client(simulate: Any) -> None:
    result = lin_kv(simulate, 1, concurrency="1", nemesis=["partition"], nemesis_interval=1.0)
    assert result.results["nemesis_ops"].get("start-partition", 0) >= 3


def test_3a_many_partitions_many_clients(simulate: Any) -> None:
    result = lin_kv(simulate, 1, concurrency="4n", nemesis=["partition"], nemesis_interval=1.0)
    assert result.results["nemesis_ops"].get("start-partition", 0) >= 3


def test_3a_persist_one_client(simulate: Any) -> None:
    assert_kills(lin_kv(simulate, 1, concurrency="1", nemesis=["kill"], time_limit=10.0))


def test_3a_persist_concurrent(simulate: Any) -> None:
    assert_kills(lin_kv(simulate, 1, nemesis=["kill"], time_limit=10.0))


def test_3a_persist_concurrent_unreliable(simulate: Any) -> None:
    assert_kills(lin_kv(simulate, 1, nemesis=["kill"], time_limit=10.0, **UNRELIABLE))


def test_3a_persist_partition(simulate: Any) -> None:
    assert_kills(lin_kv(simulate, 1, nemesis=["kill", "partition"], time_limit=10.0))


def test_3a_persist_partition_unreliable(simulate: Any) -> None:
    assert_kills(lin_kv(simulate, 1, nemesis=["kill", "partition"], time_limit=10.0,
                        **UNRELIABLE))


def test_3a_persist_partition_unreliable_linearizable(simulate: Any) -> None:
    assert_kills(lin_kv(simulate, 4, concurrency="3n", nemesis=["kill", "partition", "loss"],
                        nemesis_interval=1.5, time_limit=10.0, **UNRELIABLE))


# ----- 3B: snapshots ----------------------------------------------------------------
def snap_args(every: int = SNAPSHOT_EVERY) -> list[str]:
    return [f"--snapshot-every={every}"]


def test_3b_snapshot_rpc(simulate: Any) -> None:
    """A node cut off while the others compact past it catches up by InstallSnapshot."""
    result = lin_kv(simulate, 1, nemesis=["partition"], bin_args=snap_args(10))
    snaps = raft_sends(result, "snapshot")
    assert snaps, "no InstallSnapshot was sent"
    cut_off = [(r["time"], r["value"]["grudge"]) for r in nemesis_events(result, "start-partition")]
    # the receiver of some snapshot had been cut off from its sender by an earlier partition
    assert any(s["src"] in grudge.get(s["dest"], ()) for s in snaps
               for t, grudge in cut_off if t < s["t"])
    print(f"{len(snaps)} snapshot messages, e.g. {snaps[0]['src']}->{snaps[0]['dest']} "
          f"at index {snaps[0]['body']['m']['sn'][0]}")


def test_3b_snapshot_size(simulate: Any) -> None:
    """With no faults, the persisted log never holds much more than snapshot-every entries."""
    result = lin_kv(simulate, 1, concurrency="1", rate=50.0, time_limit=10.0,
                    bin_args=snap_args())
    writes = result.results["stats"]["by_f"]
    logged = writes["write"]["ok"] + writes["cas"]["ok"] + writes["cas"]["fail"]
    assert logged > 4 * SNAPSHOT_EVERY  # the log would have outgrown the bound many times over
    assert_snapshots_bound_log(result, SNAPSHOT_EVERY, slack=5)


def test_3b_snapshot_size_check_bites(simulate: Any) -> None:
    """Without snapshots the same run's log outgrows the bound, and the check says so."""
    result = lin_kv(simulate, 1, concurrency="1", rate=50.0, time_limit=10.0,
                    bin_args=snap_args(100_000))
    with pytest.raises(AssertionError):
        assert_snapshots_bound_log(result, SNAPSHOT_EVERY, slack=5)
    assert min(s["max_keys"] for s in result.results["disks"].values()) > 4 * SNAPSHOT_EVERY
    assert restarts_from_snapshots(result) == []


def test_3b_snapshot_recover(simulate: Any) -> None:
    result = lin_kv(simulate, 1, nemesis=["kill"], time_limit=10.0, bin_args=snap_args())
    assert_kills(result)
    assert_recovered_from_snapshots(result)


def test_3b_snapshot_recover_many_clients(simulate: Any) -> None:
    result = lin_kv(simulate, 1, concurrency="4n", nemesis=["kill"], time_limit=10.0,
                    bin_args=snap_args())
    assert_kills(result)
    assert_recovered_from_snapshots(result)


def test_3b_snapshot_unreliable(simulate: Any) -> None:
    result = lin_kv(simulate, 1, bin_args=snap_args(), **UNRELIABLE)
    assert all("raft/snap" in disk for disk in final_disks(result).values())


def test_3b_snapshot_unreliable_recover(simulate: Any) -> None:
    result = lin_kv(simulate, 1, nemesis=["kill"], time_limit=10.0, bin_args=snap_args(),
                    **UNRELIABLE)
    assert_kills(result)
    assert_recovered_from_snapshots(result)


def test_3b_snapshot_unreliable_recover_concurrent_partition(
    simulate: Any
) -> None:
    result = lin_kv(simulate, 1, nemesis=["kill", "partition"], time_limit=10.0,
                    bin_args=snap_args(), **UNRELIABLE)
    assert_kills(result)
    assert_recovered_from_snapshots(result)


def test_3b_snapshot_unreliable_recover_concurrent_partition_linearizable(
    simulate: Any
) -> None:
    result = lin_kv(simulate, 5, concurrency="3n", nemesis=["kill", "partition", "loss"],
                    nemesis_interval=1.5, time_limit=10.0, bin_args=snap_args(), **UNRELIABLE)
    assert_kills(result)
    assert_recovered_from_snapshots(result)
