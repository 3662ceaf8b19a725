"""MIT 6.824's KV lab scenarios (distlab/systems/kvraft/lab.py: 3A fault-tolerant KV, 3B
snapshots) against distlab's kvraft, with checks only kvraft allows on top.

Each `test_kv_lab[...]` is named after the 6.824 test whose intent it reproduces: short,
fixed-seed simulated lin-kv runs that must be linearizable, plus the scenario's own check
(a majority side kept serving, kills really happened, snapshots were installed over the
network, stored state stayed bounded). On top, for kvraft: Raft safety at every step from
the trace lines must be present and hold, kills match the simulator's crash notes, an
InstallSnapshot crossed a healed partition, and the persisted log stays within
snapshot-every + 5 entries. Known-bad runs (no snapshots, stale reads, a node without a
Raft) must be caught.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from distlab.systems.kvraft import NODE_PATH
from distlab.systems.kvraft.lab import SCENARIOS, Lab, LabSkip, nemesis_events, restores
from distlab.systems.raft.trace import check_logs
from tests.conftest import node_path

SNAPSHOT_EVERY = 20  # small, so 3B runs compact the log many times
RAFT_FIXED_KEYS = 3  # raft/hard, raft/snap, raft/last: the rest of a node's disk is its log


def assert_raft_safe(result: Any) -> None:
    """Raft's safety properties at every step of the run, from the nodes' trace lines."""
    report = check_logs(result.run_dir, ordered=result.results["mode"] == "sim")
    print(f"raft trace: {report.leaders} elections, {report.applied} applies, "
          f"{report.restores} restores")
    assert report.violations == []
    assert report.leaders >= 1 and report.applied > 0
    assert result.results["raft_safety"]["valid"] is True  # the runner checked it too


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


def final_disks(result: Any) -> dict[str, dict[str, Any]]:
    """Each node's durable storage at the end of the run (run_dir/disks/<node>.json)."""
    return {p.stem: orjson.loads(p.read_bytes()) for p in (result.run_dir / "disks").glob("*.json")}


def assert_recovered_from_snapshots(result: Any) -> None:
    """Every node ends with a snapshot on disk, and some killed node restarted from one."""
    assert all("raft/snap" in disk for disk in final_disks(result).values())
    from_disk = [(n, i) for n, i, at_start in restores(result) if at_start and i > 0]
    print("restarts from a snapshot (node, index):", from_disk)
    assert from_disk


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


def snap_args(every: int = SNAPSHOT_EVERY) -> list[str]:
    return [f"--snapshot-every={every}"]


def kvraft_lab(name: str, tmp_path: Path) -> Lab:
    """3A runs kvraft as shipped; 3B compacts often (every 20 entries, 10 for snapshot RPC)."""
    args = snap_args(10 if name == "3b_snapshot_rpc" else SNAPSHOT_EVERY) if name.startswith("3b") else []
    return Lab(NODE_PATH, args, store=str(tmp_path / "store"))


def kills_match_node_logs(result: Any) -> None:
    """The nemesis's kills and the simulator's crash notes in the node logs agree."""
    kills = nemesis_events(result, "start-kill")
    assert result.results["nemesis_ops"].get("start-kill", 0) == len(kills)
    crashed = sum(p.read_text().count("[distlab] crashed")
                  for p in (result.run_dir / "node-logs").glob("*.log"))
    assert crashed == sum(len(k["value"]) for k in kills)


def snapshot_rpc_crossed_a_partition(result: Any) -> None:
    """Some InstallSnapshot went to a node cut off from its sender by an earlier partition."""
    snaps = raft_sends(result, "snapshot")
    assert snaps, "no InstallSnapshot was sent"
    cut_off = [(r["time"], r["value"]["grudge"]) for r in nemesis_events(result, "start-partition")]
    assert any(s["src"] in grudge.get(s["dest"], ()) for s in snaps
               for t, grudge in cut_off if t < s["t"])


def snapshot_size_in_entries(result: Any) -> None:
    """kvraft's persisted log never holds much more than snapshot-every entries."""
    writes = result.results["stats"]["by_f"]
    logged = writes["write"]["ok"] + writes["cas"]["ok"] + writes["cas"]["fail"]
    assert logged > 4 * SNAPSHOT_EVERY  # the log would have outgrown the bound many times over
    assert_snapshots_bound_log(result, SNAPSHOT_EVERY, slack=5)


EXTRA_CHECKS: dict[str, Any] = {
    "3b_snapshot_rpc": snapshot_rpc_crossed_a_partition,
    "3b_snapshot_size": snapshot_size_in_entries,
    "3b_snapshot_unreliable": lambda r: all("raft/snap" in d for d in final_disks(r).values()),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_kv_lab(name: str, tmp_path: Path) -> None:
    lab = kvraft_lab(name, tmp_path)
    detail = SCENARIOS[name](lab)
    print(f"{name}: {detail}")
    for result in lab.runs:
        assert_raft_safe(result)
        if result.results["nemesis_ops"].get("start-kill"):
            kills_match_node_logs(result)
        if name.startswith("3b") and "recover" in name:
            assert_recovered_from_snapshots(result)
    extra = EXTRA_CHECKS.get(name)
    if extra is not None:
        extra(lab.runs[-1])


def test_3b_snapshot_size_check_bites(tmp_path: Path) -> None:
    """Without snapshots the same run's state outgrows the bound, and the lab says so."""
    lab = Lab(NODE_PATH, snap_args(100_000), store=str(tmp_path / "store"))
    with pytest.raises(AssertionError, match="stored state reached"):
        SCENARIOS["3b_snapshot_size"](lab)
    result = lab.runs[-1]
    with pytest.raises(AssertionError):
        assert_snapshots_bound_log(result, SNAPSHOT_EVERY, slack=5)
    assert [r for r in restores(result) if r[1] > 0] == []


def test_stale_reads_fail_the_lab(tmp_path: Path) -> None:
    lab = Lab(NODE_PATH, ["--stale-reads"], store=str(tmp_path / "store"))
    with pytest.raises(AssertionError, match="not linearizable"):
        SCENARIOS["3a_many_partitions_many_clients"](lab)


def test_a_node_without_raft_trace_skips_the_trace_checks(tmp_path: Path) -> None:
    """lin_kv_proxy forwards to the lin-kv service: linearizable, but no Raft to trace."""
    lab = Lab(node_path("lin_kv_proxy"), store=str(tmp_path / "store"))
    assert SCENARIOS["3a_basic"](lab)
    with pytest.raises(LabSkip, match="raft trace lines"):
        SCENARIOS["3b_snapshot_rpc"](lab)
