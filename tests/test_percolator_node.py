"""The Percolator Maelstrom node (lin-kv rows + lin-tso) in the simulator, on fixed seeds.

Snapshot isolation holds under partitions, kills, pauses, loss and clock skew,
even with a TTL so short that readers roll live transactions back; write skew
(G2-item) does happen and is allowed (the same history fails a serializability
check); the client mutants are caught by the transaction checker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from distlab.options import TestOptions
from distlab.runner import RunResult, run_test

NODE = str(Path(__file__).resolve().parent.parent / "distlab/systems/percolator/node.py")
SI = ("snapshot-isolation",)


def run(tmp_path: Path, workload: str, seed: int, models: tuple[str, ...] = SI, nemesis: str = "",
        args: tuple[str, ...] = (), **kw: Any) -> RunResult:
    opts: dict[str, Any] = {
        "workload": workload, "bin": NODE, "bin_args": list(args), "node_count": 3, "time_limit": 10.0,
        "rate": 100.0, "concurrency": "3n", "latency": 10.0, "key_count": 3, "seed": seed,
        "consistency_models": list(models), "store": str(tmp_path / "store"), "no_trace": True,
    }
    if nemesis:
        opts.update(nemesis=nemesis.split(","), nemesis_interval=2.0, nemesis_schedule="stagger")
    opts.update(kw)
    return run_test(TestOptions(**opts))


def anomalies(result: RunResult) -> set[str]:
    return set(result.results["workload"].get("anomaly_types") or [])


def ok_count(result: RunResult) -> int:
    return int(result.results["workload"]["stats"]["ok"])


@pytest.mark.parametrize("workload", ["txn-rw-register", "txn-list-append"])
@pytest.mark.parametrize("seed", [1, 2])
def test_snapshot_isolation_under_faults(tmp_path: Path, workload: str, seed: int) -> None:
    result = run(tmp_path, workload, seed, nemesis="partition,kill,pause,loss,clock")
    assert result.valid is True, anomalies(result)
    assert ok_count(result) > 40  # three hot keys: first-committer-wins aborts about half


def test_write_skew_is_allowed(tmp_path: Path) -> None:
    """Seed 2: the history holds G2-item cycles, so it is not serializable, and
    nothing else, so it is snapshot isolation."""
    serializable = run(tmp_path, "txn-rw-register", 2, ("serializable",))
    assert serializable.valid is False
    assert anomalies(serializable) == {"G2-item"}
    si = run(tmp_path, "txn-rw-register", 2, SI)
    assert si.valid is True


def test_tiny_ttl_aborts_but_stays_snapshot_isolated(tmp_path: Path) -> None:
    """A 5 ms TTL makes readers roll back live transactions: many aborts, no anomaly."""
    result = run(tmp_path, "txn-list-append", 1, args=("--ttl=5",))
    assert result.valid is True, anomalies(result)
    assert result.results["workload"]["stats"]["fail"] > 50


def test_mutant_ignore_locks_caught(tmp_path: Path) -> None:
    result = run(tmp_path, "txn-list-append", 1, nemesis="kill,partition", args=("--mutants=ignore-locks",))
    assert result.valid is False


def test_mutant_secondaries_first_caught(tmp_path: Path) -> None:
    """With readers rolling primaries back, secondaries committed first are read
    while their transaction aborts: G1a (an aborted read)."""
    result = run(tmp_path, "txn-list-append", 1, args=("--ttl=5", "--mutants=secondaries-first"))
    assert result.valid is False
    assert "G1a" in anomalies(result)
