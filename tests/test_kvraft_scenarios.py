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

import distlab.runtime.sim.cluster as sim_cluster
from distlab.history import read_jsonl
from distlab.node.storage import MemoryDisk
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


# ----- persisted-state observation (3B snapshot size) ---------------------------------
class CountingDurable(dict):  # type: ignore[type-arg]
    """A MemoryDisk's durable dict that remembers the most Raft log entries it ever held."""

    def __init__(self) -> None:
        super().__init__()
        self.log_entries = 0
        self.max_log_entries = 0
        self.max_bytes = 0
        self.snapshots = 0

    def __setitem__(self, key: str, value: bytes) -> None:
        if key.startswith("raft/log/") and key not in self:
            self.log_entries += 1
            self.max_log_entries = max(self.max_log_entries, self.log_entries)
        if key == "raft/snap":
            self.snapshots += 1
        super().__setitem__(key, value)
        self.max_bytes = max(self.max_bytes, sum(len(v) for v in self.values()))

    def pop(self, key: str, *default: Any) -> Any:
        if key.startswith("raft/log/") and key in self:
            self.log_entries -= 1
        return super().pop(key, *default)


class Disks(list):  # type: ignore[type-arg]
    """Every simulated node's durable storage in the run, and what each kill left on disk."""

    def __init__(self) -> None:
        super().__init__()
        self.crashes: list[tuple[str, int]] = []  # (node, its durable snapshot's index or 0)


@pytest.fixture
def disks(monkeypatch: pytest.MonkeyPatch) -> Disks:
    made = Disks()

    class CountingDisk(MemoryDisk):
        def __init__(self) -> None:
            super().__init__()
            self.durable = CountingDurable()
            made.append(self.durable)

    crash = sim_cluster.SimCluster.crash

    def counting_crash(cluster: Any, node_id: str) -> None:
        snap = cluster.nodes[node_id].disk.durable.get("raft/snap")
        made.crashes.append((node_id, orjson.loads(snap)[0] if snap else 0))
        crash(cluster, node_id)

    monkeypatch.setattr(sim_cluster, "MemoryDisk", CountingDisk)
    monkeypatch.setattr(sim_cluster.SimCluster, "crash", counting_crash)
    return made


def assert_recovered_from_snapshots(disks: Disks) -> None:
    """Every node persisted snapshots, and some node was killed with one on its disk (so
    its restart began from the snapshot, not from an empty state and a full log)."""
    assert all(d.snapshots > 0 for d in disks)
    print("kills (node, durable snapshot index):", disks.crashes)
    assert any(index > 0 for _, index in disks.crashes), disks.crashes


def assert_snapshots_bound_log(disks: Disks, every: int, slack: int) -> None:
    """Every node persisted snapshots, and its persisted log never grew past every + slack."""
    assert disks
    print("max persisted log entries per node:", [d.max_log_entries for d in disks],
          "snapshots:", [d.snapshots for d in disks])
    for d in disks:
        assert d.snapshots > 0 and "raft/snap" in d
        assert d.max_log_entries <= every + slack, d.max_log_entries


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


def test_3b_snapshot_size(simulate: Any, disks: Disks) -> None:
    """With no faults, the persisted log never holds much more than snapshot-every entries."""
    result = lin_kv(simulate, 1, concurrency="1", rate=50.0, time_limit=10.0,
                    bin_args=snap_args())
    writes = result.results["stats"]["by_f"]
    logged = writes["write"]["ok"] + writes["cas"]["ok"] + writes["cas"]["fail"]
    assert logged > 4 * SNAPSHOT_EVERY  # the log would have outgrown the bound many times over
    assert_snapshots_bound_log(disks, SNAPSHOT_EVERY, slack=5)


def test_3b_snapshot_recover(simulate: Any, disks: Disks) -> None:
    result = lin_kv(simulate, 1, nemesis=["kill"], time_limit=10.0, bin_args=snap_args())
    assert_kills(result)
    assert_recovered_from_snapshots(disks)


def test_3b_snapshot_recover_many_clients(simulate: Any, disks: Disks) -> None:
    result = lin_kv(simulate, 1, concurrency="4n", nemesis=["kill"], time_limit=10.0,
                    bin_args=snap_args())
    assert_kills(result)
    assert_recovered_from_snapshots(disks)


def test_3b_snapshot_unreliable(simulate: Any, disks: Disks) -> None:
    lin_kv(simulate, 1, bin_args=snap_args(), **UNRELIABLE)
    assert all(d.snapshots > 0 for d in disks)


def test_3b_snapshot_unreliable_recover(simulate: Any, disks: Disks) -> None:
    result = lin_kv(simulate, 1, nemesis=["kill"], time_limit=10.0, bin_args=snap_args(),
                    **UNRELIABLE)
    assert_kills(result)
    assert_recovered_from_snapshots(disks)


def test_3b_snapshot_unreliable_recover_concurrent_partition(
    simulate: Any, disks: Disks
) -> None:
    result = lin_kv(simulate, 1, nemesis=["kill", "partition"], time_limit=10.0,
                    bin_args=snap_args(), **UNRELIABLE)
    assert_kills(result)
    assert_recovered_from_snapshots(disks)


def test_3b_snapshot_unreliable_recover_concurrent_partition_linearizable(
    simulate: Any, disks: Disks
) -> None:
    result = lin_kv(simulate, 5, concurrency="3n", nemesis=["kill", "partition", "loss"],
                    nemesis_interval=1.5, time_limit=10.0, bin_args=snap_args(), **UNRELIABLE)
    assert_kills(result)
    assert_recovered_from_snapshots(disks)
