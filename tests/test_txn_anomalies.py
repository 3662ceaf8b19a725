"""The transactional checker on small hand-made histories: one test per anomaly class,
each beside a near-identical history that is valid."""

from __future__ import annotations

from typing import Any

import pytest

from distlab.checkers.txn import check

SER = ["serializable"]


def concurrent(*txns: tuple[str, list[list[Any]]]) -> list[dict[str, Any]]:
    """All transactions invoked, then all completed: no real-time or process order at all.

    Each txn is (type, completed micro-ops); reads in the invocation are nil.
    """
    h: list[dict[str, Any]] = []
    for p, (_, value) in enumerate(txns):
        inv = [[f, k, None if f == "r" else v] for f, k, v in value]
        h.append({"process": p, "type": "invoke", "f": "txn", "value": inv})
    for p, (type_, value) in enumerate(txns):
        h.append({"process": p, "type": type_, "f": "txn", "value": value})
    for i, rec in enumerate(h):
        rec["index"] = i
    return h


def sequential(*txns: tuple[Any, str, list[list[Any]]]) -> list[dict[str, Any]]:
    """(process, type, micro-ops) one after the other: each completes before the next starts."""
    h: list[dict[str, Any]] = []
    for p, type_, value in txns:
        inv = [[f, k, None if f == "r" else v] for f, k, v in value]
        h.append({"index": len(h), "process": p, "type": "invoke", "f": "txn", "value": inv})
        h.append({"index": len(h), "process": p, "type": type_, "f": "txn", "value": value})
    return h


def ok(*mops: list[Any]) -> tuple[str, list[list[Any]]]:
    return ("ok", list(mops))


def a(k: Any, v: Any) -> list[Any]:
    return ["append", k, v]


def r(k: Any, v: Any) -> list[Any]:
    return ["r", k, v]


def w(k: Any, v: Any) -> list[Any]:
    return ["w", k, v]


def run(h: list[dict[str, Any]], models: Any = SER, workload: str = "list-append"
        ) -> dict[str, Any]:
    return check(h, workload, models)


def assert_valid(res: dict[str, Any]) -> None:
    assert res["valid"] is True, res["anomaly_types"]
    assert res["anomaly_types"] == [] and res["not"] == [] and res["also_not"] == []


# ---------------------------------------------------------------- G0


def test_g0_write_cycle_and_its_consistent_twin() -> None:
    bad = run(concurrent(ok(a("x", 1), a("y", 1)), ok(a("x", 2), a("y", 2)),
                         ok(r("x", [1, 2]), r("y", [2, 1]))))
    assert bad["valid"] is False
    assert bad["anomaly_types"] == ["G0"]
    assert bad["not"] == ["read-uncommitted"]
    assert "serializable" in bad["also_not"]
    steps = bad["anomalies"]["G0"][0]["steps"]
    assert [s["type"] for s in steps] == ["ww", "ww"]
    assert {s["key"] for s in steps} == {"x", "y"}
    assert_valid(run(concurrent(ok(a("x", 1), a("y", 1)), ok(a("x", 2), a("y", 2)),
                                ok(r("x", [1, 2]), r("y", [1, 2])))))


# ---------------------------------------------------------------- G1a, G1b, G1c


def test_g1a_aborted_read() -> None:
    bad = run(concurrent(("fail", [a("x", 1)]), ok(r("x", [1]))))
    assert bad["anomaly_types"] == ["G1a"]
    assert bad["not"] == ["read-committed"]
    case = bad["anomalies"]["G1a"][0]
    assert (case["op"], case["writer"], case["element"]) == (3, 2, 1)
    assert_valid(run(concurrent(ok(a("x", 1)), ok(r("x", [1])))))


def test_g1a_is_not_looked_for_under_read_uncommitted() -> None:
    res = run(concurrent(("fail", [a("x", 1)]), ok(r("x", [1]))), ["read-uncommitted"])
    assert res["valid"] is True


def test_g1b_intermediate_read() -> None:
    bad = run(concurrent(ok(a("x", 1), a("x", 2)), ok(r("x", [1]))))
    assert "G1b" in bad["anomaly_types"]
    assert "read-committed" in bad["not"]
    assert bad["anomalies"]["G1b"][0]["element"] == 1
    assert_valid(run(concurrent(ok(a("x", 1), a("x", 2)), ok(r("x", [1, 2])))))


def test_g1c_circular_information_flow() -> None:
    bad = run(concurrent(ok(a("x", 1), r("y", [1])), ok(a("x", 2), a("y", 1)),
                         ok(r("x", [1, 2]))))
    assert bad["anomaly_types"] == ["G1c"]
    assert bad["not"] == ["read-committed"]
    kinds = sorted(s["type"] for s in bad["anomalies"]["G1c"][0]["steps"])
    assert kinds == ["wr", "ww"]
    assert_valid(run(concurrent(ok(a("x", 1), r("y", [])), ok(a("x", 2), a("y", 1)),
                                ok(r("x", [1, 2])))))


# ---------------------------------------------------------------- G-single, G2-item


def test_g_single_read_skew_explained_edge_by_edge() -> None:
    bad = run(concurrent(ok(a("x", 1), a("y", 1)), ok(a("x", 2), r("y", [])),
                         ok(r("x", [1, 2]))))
    assert bad["anomaly_types"] == ["G-single"]
    assert bad["not"] == ["repeatable-read", "snapshot-isolation"]
    case = bad["anomalies"]["G-single"][0]
    names = {c["index"]: c["name"] for c in case["cycle"]}
    t1, t2 = names[3], names[4]  # completions of the first two txns
    texts = sorted(s["text"] for s in case["steps"])
    assert texts == sorted([
        f"{t2} appended 2 to key x after {t1} appended 1 (ww)",
        f"{t2} read [] of key y, missing {t1}'s append of 1 (rw)",
    ])
    assert "a contradiction!" in case["explanation"]
    assert_valid(run(concurrent(ok(a("x", 1), a("y", 1)), ok(a("x", 2), r("y", [1])),
                                ok(r("x", [1, 2])))))


def test_g2_item_write_skew() -> None:
    h = concurrent(ok(a("x", 1), r("y", [])), ok(a("y", 1), r("x", [])),
                   ok(r("x", [1]), r("y", [1])))
    bad = run(h)
    assert bad["anomaly_types"] == ["G2-item"]
    assert bad["not"] == ["repeatable-read"]
    assert [s["type"] for s in bad["anomalies"]["G2-item"][0]["steps"]] == ["rw", "rw"]
    # snapshot isolation allows write skew
    assert run(h, ["snapshot-isolation"])["valid"] is True
    assert_valid(run(concurrent(ok(a("x", 1), r("y", [])), ok(a("y", 1), r("x", [1])),
                                ok(r("x", [1]), r("y", [1])))))


def test_g_nonadjacent_rules_out_snapshot_isolation() -> None:
    # rw, wr, rw, wr: two rw edges that never touch
    h = concurrent(ok(a("x", 1)), ok(r("x", [1]), r("y", [])), ok(a("y", 1)),
                   ok(r("y", [1]), r("x", [])))
    bad = run(h, ["snapshot-isolation"])
    assert bad["anomaly_types"] == ["G-nonadjacent"]
    assert bad["not"] == ["repeatable-read", "snapshot-isolation"]
    assert_valid(run(concurrent(ok(a("x", 1)), ok(r("x", [1]), r("y", [])), ok(a("y", 1)),
                                ok(r("y", [1]), r("x", [1]))), ["snapshot-isolation"]))


# ---------------------------------------------------------------- non-cycle anomalies


def test_internal_inconsistency() -> None:
    bad = run(concurrent(ok(a("x", 1), r("x", []))))
    assert bad["anomaly_types"] == ["internal"]
    assert bad["anomalies"]["internal"][0]["expected"] == "[... 1]"
    stale = run(concurrent(ok(a("x", 5)), ok(r("x", [5]), a("x", 6), r("x", [5]))))
    assert stale["anomaly_types"] == ["internal"]
    assert stale["anomalies"]["internal"][0]["expected"] == "[5 6]"
    assert_valid(run(concurrent(ok(a("x", 5)), ok(r("x", [5]), a("x", 6), r("x", [5, 6])))))


def test_duplicate_elements() -> None:
    bad = run(concurrent(ok(a("x", 1)), ok(r("x", [1, 1]))), ["read-uncommitted"])
    assert bad["anomaly_types"] == ["duplicate-elements"]
    assert bad["not"] == ["read-uncommitted"]
    assert bad["anomalies"]["duplicate-elements"][0]["duplicates"] == {"1": 2}
    assert_valid(run(concurrent(ok(a("x", 1)), ok(r("x", [1]))), ["read-uncommitted"]))


def test_incompatible_order() -> None:
    bad = run(concurrent(ok(a("x", 1)), ok(a("x", 2)), ok(r("x", [1, 2])), ok(r("x", [2, 1]))),
              ["read-uncommitted"])
    assert bad["anomaly_types"] == ["incompatible-order"]
    assert bad["anomalies"]["incompatible-order"][0]["values"] == [[1, 2], [2, 1]]
    assert_valid(run(concurrent(ok(a("x", 1)), ok(a("x", 2)), ok(r("x", [1, 2])),
                                ok(r("x", [1]))), ["read-uncommitted"]))


def test_lost_update() -> None:
    bad = run(concurrent(ok(a("x", 0)), ok(r("x", [0]), a("x", 1)), ok(r("x", [0]), a("x", 2))))
    assert bad["anomaly_types"] == ["G2-item", "lost-update"]
    assert bad["not"] == ["repeatable-read", "snapshot-isolation"]
    assert bad["anomalies"]["lost-update"][0]["txns"] == [4, 5]
    assert_valid(run(concurrent(ok(a("x", 0)), ok(r("x", [0]), a("x", 1)),
                                ok(r("x", [0, 1]), a("x", 2)))))


def test_unobserved_append_orders_after_the_longest_read() -> None:
    # nobody reads x's 3, so its append follows [1 2]: T(ax2) -ww-> T(ax3)
    bad = run(concurrent(ok(a("x", 1)), ok(a("x", 2), a("y", 1)), ok(a("x", 3), r("y", [])),
                         ok(r("x", [1, 2]))))
    assert "G-single" in bad["anomaly_types"]  # ... and T(ax3) -rw-> T(ax2) on y
    assert bad["not"] == ["repeatable-read", "snapshot-isolation"]
    assert_valid(run(concurrent(ok(a("x", 1)), ok(a("x", 2), a("y", 1)),
                                ok(a("x", 3), r("y", [1])), ok(r("x", [1, 2])))))
    g1c = run(concurrent(ok(a("x", 1)), ok(a("x", 2), r("y", [1])), ok(a("x", 3), a("y", 1)),
                         ok(r("x", [1, 2]))))
    assert "G1c" in g1c["anomaly_types"]  # T(ax2) -ww-> T(ax3) -wr-> T(ax2)
    assert g1c["not"] == ["read-committed"]


# ---------------------------------------------------------------- real time and process order


def _stale_read(reader_process: int) -> list[dict[str, Any]]:
    return sequential((0, "ok", [a("x", 1)]), (1, "ok", [a("x", 2)]),
                      (reader_process, "ok", [r("x", [1])]), (3, "ok", [r("x", [1, 2])]))


def test_g_single_realtime_stale_read() -> None:
    h = _stale_read(2)
    assert run(h, ["serializable"])["valid"] is True
    bad = run(h, ["strict-serializable"])
    assert bad["anomaly_types"] == ["G-single-realtime"]
    assert bad["not"] == ["strong-snapshot-isolation"]
    assert bad["also_not"] == ["strict-serializable"]
    kinds = [s["type"] for s in bad["anomalies"]["G-single-realtime"][0]["steps"]]
    assert sorted(kinds) == ["realtime", "rw"]
    fresh = sequential((0, "ok", [a("x", 1)]), (1, "ok", [a("x", 2)]), (2, "ok", [r("x", [1, 2])]))
    assert_valid(run(fresh, ["strict-serializable"]))


def test_g_single_process_needs_process_order_only() -> None:
    models = ["strong-session-snapshot-isolation"]
    bad = run(_stale_read(1), models)
    assert bad["anomaly_types"] == ["G-single-process"]
    assert bad["not"] == ["strong-session-serializable", "strong-session-snapshot-isolation"]
    kinds = [s["type"] for s in bad["anomalies"]["G-single-process"][0]["steps"]]
    assert kinds.count("process") == 1
    assert_valid(run(_stale_read(2), models))  # another process may lag: no session order


def test_info_transactions_count_only_when_observed() -> None:
    # an info append nobody read may never have happened: no anomaly
    h = concurrent(("info", [a("x", 1), a("y", 1)]), ok(r("x", []), a("y", 2)), ok(r("y", [2])))
    assert_valid(run(h))
    # observed, it committed, and T2 missed x while T(info) came before it on y
    h = concurrent(("info", [a("x", 1), a("y", 1)]), ok(r("x", []), a("y", 2)),
                   ok(r("y", [1, 2]), r("x", [1])))
    assert run(h)["anomaly_types"] == ["G-single"]


def test_no_committed_transactions_is_unknown() -> None:
    res = run(concurrent(("fail", [a("x", 1)]), ("info", [a("x", 2)])))
    assert res["valid"] == "unknown"


# ---------------------------------------------------------------- rw-register


def reg(h: list[dict[str, Any]], models: Any = SER) -> dict[str, Any]:
    return run(h, models, "rw-register")


def test_register_g2_item_and_twin() -> None:
    bad = reg(concurrent(ok(r("x", None), w("y", 1)), ok(r("y", None), w("x", 1))))
    assert bad["anomaly_types"] == ["G2-item"]
    assert_valid(reg(concurrent(ok(r("x", None), w("y", 1)), ok(r("y", 1), w("x", 1)))))


def test_register_g_single_and_twin() -> None:
    bad = reg(concurrent(ok(w("x", 1), w("y", 1)), ok(r("x", 1), r("y", None))))
    assert bad["anomaly_types"] == ["G-single"]
    texts = sorted(s["text"] for s in bad["anomalies"]["G-single"][0]["steps"])
    assert any("read nil of key y, which" in t and "(rw)" in t for t in texts)
    assert_valid(reg(concurrent(ok(w("x", 1), w("y", 1)), ok(r("x", 1), r("y", 1)))))


def test_register_g1c_and_version_order_from_writes_following_reads() -> None:
    bad = reg(concurrent(ok(w("x", 1), r("y", 1)), ok(w("y", 1), r("x", 1))))
    assert bad["anomaly_types"] == ["G1c"]
    assert_valid(reg(concurrent(ok(w("x", 1), r("y", 1)), ok(w("y", 1), r("x", None)))))
    # T2 read x=1 and wrote 2, so 1 < 2 and T1 -ww-> T2; T1 also read T2's y: G1c
    wfr = reg(concurrent(ok(w("x", 1), r("y", 5)), ok(r("x", 1), w("x", 2), w("y", 5))))
    assert wfr["anomaly_types"] == ["G1c"]
    kinds = sorted(s["type"] for s in wfr["anomalies"]["G1c"][0]["steps"])
    assert kinds in (["wr", "wr"], ["wr", "ww"])
    assert_valid(reg(concurrent(ok(w("x", 1), r("y", None)),
                                ok(r("x", 1), w("x", 2), w("y", 5)))))


def test_register_g1a_g1b_internal_lost_update() -> None:
    assert reg(concurrent(("fail", [w("x", 1)]), ok(r("x", 1))))["anomaly_types"] == ["G1a"]
    assert_valid(reg(concurrent(("fail", [w("x", 1)]), ok(r("x", None)))))
    assert "G1b" in reg(concurrent(ok(w("x", 1), w("x", 2)), ok(r("x", 1))))["anomaly_types"]
    assert_valid(reg(concurrent(ok(w("x", 1), w("x", 2)), ok(r("x", 2)))))
    assert reg(concurrent(ok(w("x", 1), r("x", 2))))["anomaly_types"] == ["internal"]
    assert_valid(reg(concurrent(ok(w("x", 1), r("x", 1)))))
    lost = reg(concurrent(ok(r("x", None), w("x", 1)), ok(r("x", None), w("x", 2))))
    assert "lost-update" in lost["anomaly_types"]
    assert_valid(reg(concurrent(ok(r("x", None), w("x", 1)), ok(r("x", 1), w("x", 2)))))


def test_register_cyclic_versions() -> None:
    bad = reg(concurrent(ok(w("x", 1)), ok(r("x", 1), w("x", 2)), ok(r("x", 2), w("x", 3)),
                         ok(r("x", 3), w("x", 1))), ["read-uncommitted"])
    assert "cyclic-versions" in bad["anomaly_types"]


# ---------------------------------------------------------------- API


def test_unknown_model_and_workload_are_errors() -> None:
    h = concurrent(ok(a("x", 1)))
    with pytest.raises(ValueError, match="consistency model"):
        check(h, consistency_models=["snapshot"])
    with pytest.raises(ValueError, match="workload"):
        check(h, workload="set")


def test_malformed_micro_op_names_the_record() -> None:
    from distlab.checkers.txn import TxnHistoryError

    h = concurrent(ok(["cas", "x", 1]))
    with pytest.raises(TxnHistoryError, match="index 1"):
        check(h)


def test_composite_keys_and_the_input_left_untouched() -> None:
    import copy
    import gc

    h = concurrent(ok(a(["t", 1], 1), a(["t", 2], 1)), ok(a(["t", 1], 2), r(["t", 2], [])),
                   ok(r(["t", 1], [1, 2])))
    before = copy.deepcopy(h)
    res = run(h)
    assert res["anomaly_types"] == ["G-single"]
    keys = sorted(s["key"] for s in res["anomalies"]["G-single"][0]["steps"])
    assert keys == [["t", 1], ["t", 2]]  # given back as plain lists
    assert h == before
    assert gc.isenabled()
