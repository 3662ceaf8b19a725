"""Elle's own histories (../shared/data/elle): the verdicts Elle and its paper give."""

from __future__ import annotations

from typing import Any

import pytest

from distlab.checkers.txn import check
from distlab.history import read_history
from tests.conftest import shared_data

ELLE = shared_data("elle")


@pytest.fixture(scope="module")
def huge_scc() -> list[dict[str, Any]]:
    return read_history(ELLE / "huge-scc.edn")


def test_si_without_g_single_is_g2_item_only() -> None:
    # Elle: exactly one anomaly type, G2-item; not repeatable-read; SI not refuted
    res = check(read_history(ELLE / "si-without-g-single.edn"), "list-append",
                ["snapshot-isolation", "repeatable-read"])
    assert res["valid"] is False
    assert res["anomaly_types"] == ["G2-item"]
    assert res["not"] == ["repeatable-read"]
    assert "snapshot-isolation" not in res["not"] + res["also_not"]
    assert all(s["type"] in ("rw", "ww", "wr") for s in res["anomalies"]["G2-item"][0]["steps"])
    assert check(read_history(ELLE / "si-without-g-single.edn"), "list-append",
                 ["snapshot-isolation"])["valid"] is True


def test_paper_example_is_the_g_single_of_the_paper() -> None:
    # Kingsbury & Alvaro (VLDB 2020), section 2: T1 < T2 because T1 did not observe
    # T2's append of 8 to key 255; T2 < T3 because T3 observed it; T3 < T1 because T1
    # appended 3 to key 256 after T3 appended 4: a G-single, so not snapshot isolation.
    res = check(read_history(ELLE / "paper-example.edn"))
    assert res["valid"] is False
    assert res["anomaly_types"] == ["G-single"]
    assert res["not"] == ["repeatable-read", "snapshot-isolation"]
    case = res["anomalies"]["G-single"][0]
    assert sorted(c["index"] for c in case["cycle"]) == [3, 5, 7]
    name = {c["index"]: c["name"] for c in case["cycle"]}
    t1, t2, t3 = name[7], name[3], name[5]
    assert sorted(s["text"] for s in case["steps"]) == sorted([
        f"{t1} read [2 3 4 5] of key 255, missing {t2}'s append of 8 (rw)",
        f"{t3} read [2 3 4 5 8] of key 255, observing {t2}'s append of 8 (wr)",
        f"{t1} appended 3 to key 256 after {t3} appended 4 (ww)",
    ])


def test_huge_scc_is_not_strong_snapshot_isolation(huge_scc: list[dict[str, Any]]) -> None:
    res = check(huge_scc, budget=10)
    assert res["valid"] is False
    assert res["not"] == ["strong-snapshot-isolation"]
    assert res["also_not"] == ["strict-serializable"]
    assert res["anomaly_types"] and all(t.endswith("-realtime") for t in res["anomaly_types"])
    assert res["stats"]["largest_scc"] > 1000
    # real-time detours collapse: a stale read is two edges, not a walk around the SCC
    assert min(len(c["steps"]) for c in res["anomalies"]["G-single-realtime"]) == 2
    assert res["stats"]["seconds"] < 10
    # serializable without real time: Elle finds nothing either
    assert check(huge_scc, consistency_models=["serializable"])["valid"] is True


def test_huge_scc_under_a_tiny_budget_still_proves_the_verdict(
    huge_scc: list[dict[str, Any]],
) -> None:
    res = check(huge_scc, budget={"steps": 100})
    assert res["cycle_search"]["complete"] is False
    assert res["valid"] is False
    assert res["not"] == ["strong-snapshot-isolation"]
    assert "strong-snapshot-isolation-cycle-exists" in res["anomaly_types"]
    assert "cycle-search-timeout" in res["anomaly_types"]
    case = res["anomalies"]["strong-snapshot-isolation-cycle-exists"][0]
    assert case["scc_sizes"][0] > 1000
    assert "a cycle ruling out strong-snapshot-isolation exists" in case["text"]
