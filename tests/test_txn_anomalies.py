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


def test_unread_appends_to_a_common_key_order_an_rw_edge_under_snapshot_isolation() -> None:
    # each missed the other's append; both appended to keys 0 and 1, which nobody read.
    # Under first-committer-wins they did not overlap, so the one that missed the other's
    # append committed first, and the other saw everything it wrote: a G-single either way
    h = concurrent(ok(r(0, []), a(1, 1), a(0, 1)), ok(r(1, []), a(1, 2), a(0, 2)))
    bad = run(h, ["snapshot-isolation"])
    assert bad["anomaly_types"] == ["G-single"]
    steps = bad["anomalies"]["G-single"][0]["steps"]
    assert sorted(s["type"] for s in steps) == ["rw", "rw+ww"]
    assert any("under snapshot isolation" in s["text"] for s in steps)
    # read committed orders nothing here: each may have read before the other committed
    assert_valid(run(h, ["read-committed"]))
    # with the appends to different keys, it is write skew, which snapshot isolation allows
    assert_valid(run(concurrent(ok(r(0, []), a(1, 1)), ok(r(1, []), a(0, 2))),
                     ["snapshot-isolation"]))


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
    # each missed the other's unread append to x: whichever came first, a G-single
    assert bad["anomaly_types"] == ["G-single", "G2-item", "lost-update"]
    assert bad["not"] == ["repeatable-read", "snapshot-isolation"]
    assert bad["anomalies"]["lost-update"][0]["txns"] == [4, 5]
    assert [s["type"] for s in bad["anomalies"]["G-single"][0]["steps"]] == ["rw", "rw+ww"]
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
    # nobody wrote 2 at all: garbage as well as internal
    assert reg(concurrent(ok(w("x", 1), r("x", 2))))["anomaly_types"] == [
        "garbage-versions", "internal"]
    assert reg(concurrent(ok(w("x", 2)), ok(w("x", 1), r("x", 2))))["anomaly_types"] == [
        "internal"]
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


# ---------------------------------------------------------------- impossible reads


ALL_MODELS = ["read-uncommitted", "read-committed", "snapshot-isolation", "repeatable-read",
              "serializable", "strict-serializable"]


def _refuted_everywhere(h: list[dict[str, Any]], kind: str, workload: str = "list-append"
                        ) -> dict[str, Any]:
    """The anomaly is reported under every model, read-uncommitted included."""
    for model in ALL_MODELS:
        res = run(h, [model], workload)
        assert res["valid"] is False, (model, res["anomaly_types"])
        assert kind in res["anomaly_types"], (model, res["anomaly_types"])
    res = run(h, ALL_MODELS, workload)
    assert res["not"] == ["read-uncommitted"]
    return res["anomalies"][kind][0]


@pytest.mark.parametrize("writes, value, element", [
    ([], [1], 1),                 # nothing was ever appended to key 7
    ([a(7, 1)], [1, 99], 99),     # only 1 was
    ([a(7, 1)], [1, 2], 2),       # 2 never was
    ([a(7, 1)], [99, 1], 99),     # garbage before a real element
])
def test_garbage_list_read_is_invalid_under_every_model(
    writes: list[list[Any]], value: list[Any], element: Any,
) -> None:
    h = concurrent(*[ok(m) for m in writes], ok(r(7, value)))
    case = _refuted_everywhere(h, "garbage-versions")
    assert case["key"] == 7 and case["element"] == element and case["value"] == value
    assert case["op"] == h[-1]["index"]
    assert f"read {'[' + ' '.join(map(str, value)) + ']'} of key 7" in case["text"]
    assert f"no transaction appended {element}" in case["text"]
    # the same reads of elements that were appended are fine
    assert_valid(run(concurrent(ok(a(7, 1)), ok(a(7, 2)), ok(r(7, [1, 2])))))


def test_garbage_in_a_shorter_read_and_in_an_info_append_that_is_not() -> None:
    # 5 comes from an info transaction: it may have committed, so that read is fine
    assert_valid(run(concurrent(ok(a(7, 1)), ("info", [a(7, 5)]), ok(r(7, [1, 5])))))
    # the garbage sits in a read that is a prefix of a longer one: still reported, per read
    h = concurrent(ok(a(7, 1)), ok(r(7, [99])), ok(r(7, [99, 1])), ok(r(7, [99, 1])))
    res = run(h, ALL_MODELS)
    assert res["anomaly_counts"]["garbage-versions"] == 3


def test_reads_of_failed_appends_stay_aborted_reads() -> None:
    res = run(concurrent(("fail", [a(7, 1)]), ok(r(7, [1]))), ALL_MODELS)
    assert res["anomaly_types"] == ["G1a"]


def test_duplicates_and_incompatible_orders_are_invalid_under_every_model() -> None:
    _refuted_everywhere(concurrent(ok(a(7, 1)), ok(r(7, [1, 1]))), "duplicate-elements")
    _refuted_everywhere(concurrent(ok(a(7, 1)), ok(a(7, 2)), ok(r(7, [1, 2])), ok(r(7, [2, 1]))),
                        "incompatible-order")


@pytest.mark.parametrize("value", [[2, 1], [2]])
def test_read_against_the_writers_own_order_is_cyclic_versions(value: list[int]) -> None:
    # one transaction appended 1 then 2: no state holds 2 without 1 before it
    h = concurrent(ok(a(7, 1), a(7, 2)), ok(r(7, value)))
    case = _refuted_everywhere(h, "cyclic-versions")
    assert case["key"] == 7
    assert "appended [1 2]" in case["text"]
    assert_valid(run(concurrent(ok(a(7, 1), a(7, 2)), ok(r(7, [1, 2])))))


def test_future_read_of_an_own_later_append() -> None:
    bad = run(concurrent(ok(r(7, [1]), a(7, 1))))
    assert bad["anomaly_types"] == ["future-read"]
    assert bad["not"] == ["read-committed"]
    assert bad["anomalies"]["future-read"][0]["element"] == 1
    assert_valid(run(concurrent(ok(r(7, []), a(7, 1), r(7, [1])))))


def test_info_append_observed_on_one_key_happened_on_the_others() -> None:
    # T(info) appended x 1 and y 1; T2 saw x's 1, T3 saw T2's z but missed y's 1:
    # T(info) < T2 < T3 < T(info)
    h = concurrent(("info", [a("x", 1), a("y", 1)]), ok(r("x", [1]), a("z", 1)),
                   ok(r("z", [1]), r("y", [])))
    assert run(h)["valid"] is False
    assert_valid(run(concurrent(("info", [a("x", 1), a("y", 1)]), ok(r("x", [1]), a("z", 1)),
                                ok(r("z", [1]), r("y", [1])))))


def test_register_garbage_read_is_invalid_under_every_model() -> None:
    case = _refuted_everywhere(concurrent(ok(w(7, 1)), ok(r(7, 5))), "garbage-versions",
                               "rw-register")
    assert case["key"] == 7 and case["value"] == 5
    assert "no transaction wrote 5 to key 7" in case["text"]
    _refuted_everywhere(concurrent(ok(r(7, 5))), "garbage-versions", "rw-register")
    # a value written to another key is garbage for this one
    _refuted_everywhere(concurrent(ok(w(8, 5)), ok(r(7, 5))), "garbage-versions", "rw-register")
    # nil, committed, info, failed (G1a) and intermediate (G1b) values are not garbage
    assert_valid(reg(concurrent(ok(w(7, 1)), ok(r(7, None)), ok(r(7, 1)))))
    assert_valid(reg(concurrent(("info", [w(7, 1)]), ok(r(7, 1)))))
    for writer, kind in ((("fail", [w(7, 1)]), "G1a"), (ok(w(7, 1), w(7, 2)), "G1b")):
        res = reg(concurrent(writer, ok(r(7, 1))), ALL_MODELS)
        assert kind in res["anomaly_types"] and "garbage-versions" not in res["anomaly_types"]


def test_register_future_read_and_intermediate_read() -> None:
    bad = reg(concurrent(ok(r(7, 5), w(7, 5))))
    assert bad["anomaly_types"] == ["future-read"]
    # T1 wrote 1 and then 2: reading 1 from it is an intermediate read
    assert reg(concurrent(ok(w(7, 1), w(7, 2)), ok(r(7, 1))))["anomaly_types"] == ["G1b"]


# ---------------------------------------------------------------- Maelstrom's false passes


def test_maelstrom_14_reads_answered_as_appends_are_caught() -> None:
    # jepsen-io/maelstrom#14: a node answered every read as an append of the list it read;
    # the checker saw only appends of list values and called the run valid
    h = sequential(
        (0, "ok", [a(224, 6), r(226, [1, 2, 3])]),
        (1, "ok", [r(229, [1, 3]), r(229, [1, 3])]),
    )
    h[1]["value"] = [a(224, 6), ["append", 226, [1, 2, 3]]]
    h[3]["value"] = [["append", 229, [1, 3]], ["append", 229, [1, 3]]]
    case = _refuted_everywhere(h, "mismatched-completion")
    assert case["op"] == 1
    assert "['append', 226, [1, 2, 3]]" in case["text"] and "['r', 226, None]" in case["text"]
    # a completion that leaves micro-ops out (jepsen-io/maelstrom#57) is caught the same way
    h = sequential((0, "ok", [r(8, []), a(8, 1), r(9, [])]))
    h[1]["value"] = [r(8, [])]
    _refuted_everywhere(h, "mismatched-completion")
    assert_valid(run(sequential((0, "ok", [r(8, []), a(8, 1), r(9, [])]))))


def test_maelstrom_56_write_cycle_under_read_uncommitted() -> None:
    # jepsen-io/maelstrom#56: T3 read T2's 1 and wrote 10 over it; T2 read that 10 and
    # wrote 2 over it: T2 < T3 < T2 on key 0, a write cycle (G0) that read-uncommitted forbids
    t2 = [w(0, 1), r(0, 1), r(0, 10), w(0, 2), w(0, 3), r(0, 3)]
    t3 = [r(0, 1), w(0, 10), r(0, 3), w(0, 11)]
    h = concurrent(ok(*t2), ok(*t3))
    res = reg(h, ["read-uncommitted"])
    assert res["valid"] is False
    assert res["anomaly_types"] == ["G0"]
    assert res["not"] == ["read-uncommitted"]
    texts = sorted(s["text"] for s in res["anomalies"]["G0"][0]["steps"])
    assert any("read 1 of key 0" in t and "then wrote 10" in t for t in texts), texts
    assert any("read 10 of key 0" in t and "then wrote 2" in t for t in texts), texts
    # without T2 reading 10 there is no cycle
    t2_ok = [w(0, 1), r(0, 1), w(0, 2), w(0, 3), r(0, 3)]
    assert_valid(reg(concurrent(ok(*t2_ok), ok(*t3)), ["read-uncommitted"]))


NO_ISOLATION = """
import asyncio

from distlab import Node

node = Node()
data = {}


@node.on("txn")
async def transact(msg):
    result = []
    for kind, key, value in msg.body["txn"]:
        if kind == "r":
            result.append(["r", key, data.get(str(key))])
        else:
            data[str(key)] = value
            result.append([kind, key, value])
        await asyncio.sleep(0.001)  # other transactions run meanwhile
    return {"type": "txn_ok", "txn": result}


if __name__ == "__main__":
    node.run()
"""

READS_AS_APPENDS = """
from distlab import Node

node = Node()
data = {}


@node.on("txn")
def transact(msg):
    result = []
    for kind, key, value in msg.body["txn"]:
        if kind == "r":
            result.append(["append", key, list(data.get(str(key), []))])  # the typo of #14
        else:
            data.setdefault(str(key), []).append(value)
            result.append([kind, key, value])
    return {"type": "txn_ok", "txn": result}


if __name__ == "__main__":
    node.run()
"""


def test_maelstrom_56_node_without_isolation_is_caught(simulate: Any, tmp_path: Any) -> None:
    # the node of #56 in miniature: micro-ops applied in place, one at a time, while other
    # transactions run; one key, so their writes interleave and form write cycles
    node = tmp_path / "no_isolation.py"
    node.write_text(NO_ISOLATION)
    result = simulate(str(node), workload="txn-rw-register",
                      consistency_models=["read-uncommitted"], concurrency="4n", key_count=1,
                      max_txn_length=6, time_limit=5, rate=1000)
    found = result.results["workload"]
    assert result.valid is False, found
    assert "G0" in found["anomaly_types"]
    assert found["not"] == ["read-uncommitted"]


def test_maelstrom_14_node_answering_reads_as_appends_is_caught(simulate: Any, tmp_path: Any
                                                               ) -> None:
    node = tmp_path / "reads_as_appends.py"
    node.write_text(READS_AS_APPENDS)
    result = simulate(str(node), workload="txn-list-append", concurrency="2n", key_count=3,
                      time_limit=5, rate=50)
    found = result.results["workload"]
    assert result.valid is False, found
    assert "mismatched-completion" in found["anomaly_types"]
    assert found["not"] == ["read-uncommitted"]
