"""The checker interface: Verdict, compose, the shared pairing, and the workload registry."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from distlab.checkers.api import Compose, FunctionChecker, Verdict, merge_valid
from distlab.checkers.pairing import calls, completion_of, invocation_of
from distlab.checkers.stats import Availability, Stats
from distlab.history import pairs
from distlab.options import TestOptions
from distlab.report.results import run_checker
from distlab.workloads.base import NoParams, Workload, load_workload, workload_names
from distlab.workloads.registry import WORKLOADS, workload_parameters


def rec(i: int, process: Any, type_: str, f: str = "read", value: Any = None) -> dict[str, Any]:
    return {"index": i, "time": i, "process": process, "type": type_, "f": f, "value": value}


def test_a_verdict_round_trips_the_dicts_results_json_holds() -> None:
    doc = {"valid": False, "ok_count": 3, "duplicated": [[1, 2]], "explanation": "id 1 twice"}
    verdict = Verdict.from_dict(doc, anomaly_keys=("duplicated",))
    assert verdict.valid is False and verdict.anomalies == {"duplicated": [[1, 2]]}
    assert verdict.figures == {"ok_count": 3} and verdict.explanation == "id 1 twice"
    assert verdict.to_dict() == doc


@pytest.mark.parametrize(("values", "merged"), [
    ([], True), ([True, True], True), ([True, "unknown"], "unknown"),
    (["unknown", False, True], False), ([None], "unknown"),
])
def test_merge_valid_false_beats_unknown_beats_true(values: list[Any], merged: Any) -> None:
    assert merge_valid(values) == merged


class Fixed:
    def __init__(self, valid: Any) -> None:
        self.valid = valid

    def check(self, history: list[dict[str, Any]], params: Any) -> Verdict:
        return Verdict(self.valid, figures={"seen": len(history)})


def test_compose_keeps_each_verdict_under_its_name_and_leaves_out_the_silent() -> None:
    verdict = Compose({"a": Fixed(True), "b": Fixed("unknown"), "c": Fixed(None)}).check([rec(0, 0, "invoke")], {})
    assert verdict.valid == "unknown"
    assert verdict.to_dict() == {"valid": "unknown", "a": {"valid": True, "seen": 1},
                                 "b": {"valid": "unknown", "seen": 1}}
    assert Compose({"a": Fixed(True), "b": Fixed(False)}).check([], {}).valid is False


def test_stats_and_availability() -> None:
    history = [rec(0, 0, "invoke", "add"), rec(1, 0, "fail", "add"),
               rec(2, 1, "invoke"), rec(3, 1, "ok", value=[]), rec(4, 2, "invoke"),
               rec(5, "nemesis", "info", "start")]
    stats = Stats().check(history, {})
    assert stats.valid is False and stats.anomalies["errors"] == ["no 'add' succeeded (0 ok of 1)"]
    assert (stats.figures["count"], stats.figures["ok"], stats.figures["pending"]) == (3, 1, 1)
    assert Availability(None).check(history, {}).valid is True
    low = Availability(0.5).check(history, {})
    assert low.valid is False and low.figures == {"ok_fraction": 0.333333, "required": 0.5}


def test_a_run_composes_workload_stats_availability_and_the_raft_trace(tmp_path: Path) -> None:
    checker = run_checker(FunctionChecker(lambda h: {"valid": True}), None)
    assert list(checker.checkers) == ["workload", "stats", "availability", "raft_safety"]
    history = [rec(0, 0, "invoke"), rec(1, 0, "ok", value=[])]
    # no node logs: the Raft trace checker has nothing to say and is left out
    parts = checker.check(history, {"run_dir": str(tmp_path)}).to_dict()
    assert set(parts) == {"valid", "workload", "stats", "availability"} and parts["valid"] is True


def test_one_pairing_invoke_with_its_completion() -> None:
    history = [
        rec(0, 0, "invoke"), rec(1, 1, "invoke"), rec(2, "nemesis", "info", "start"),
        rec(3, 1, "ok", value=[1]),
        rec(4, 0, "invoke"),  # process 0 invokes again: its first call never completes
        rec(5, 0, "info"), rec(6, 2, "ok"),  # a completion with no invocation pairs with nothing
        rec(7, 3, "invoke"),
    ]
    assert [(c[0], c[2]) for c in calls(history)] == [(0, None), (1, 3), (4, 5), (7, None)]
    assert {k: v["index"] for k, v in invocation_of(history).items()} == {3: 1, 5: 4}
    assert {k: v["index"] for k, v in completion_of(history).items()} == {1: 3, 4: 5}
    assert [(i["index"], d and d["index"]) for i, d in pairs(history)] == [(0, None), (1, 3), (4, 5), (7, None)]


def test_the_registry_lists_workloads_only() -> None:
    assert workload_names() == sorted(WORKLOADS)
    assert "topology" not in WORKLOADS and "base" not in WORKLOADS and "registry" not in WORKLOADS
    for name, cls in WORKLOADS.items():
        assert cls.name == name and issubclass(cls, Workload)
    with pytest.raises(ValueError, match="unknown workload 'topology'"):
        load_workload("topology")


def test_every_workload_module_is_registered() -> None:
    folder = Path(__file__).resolve().parents[1] / "distlab" / "workloads"
    helpers = {"__init__", "base", "registry", "topology"}
    modules = {p.stem for p in folder.glob("*.py")} - helpers
    registered = {cls.__module__.rsplit(".", 1)[1] for cls in WORKLOADS.values()}
    assert modules == registered


def test_workloads_read_their_declared_parameters_not_test_options() -> None:
    folder = Path(__file__).resolve().parents[1] / "distlab" / "workloads"
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text())
        reads = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                 and isinstance(n.value, ast.Attribute) and n.value.attr == "opts"}
        assert not reads, f"{path.name} reads self.opts.{reads}"


def test_parameters_come_from_the_options_once() -> None:
    opts = TestOptions(workload="txn-list-append", bin="", consistency_models=["read-committed"], key_count=3)
    params = load_workload("txn-list-append").params_from(opts)
    assert params.consistency_models == ("read-committed",) and params.key_count == 3
    assert params.max_txn_length == 4
    default = load_workload("txn-list-append").params_from(TestOptions(workload="txn-list-append", bin=""))
    assert default.consistency_models == ("strict-serializable",) and default.key_count == 10
    assert load_workload("broadcast").params_from(TestOptions(workload="broadcast", bin="", topology="line")).topology == "line"
    assert load_workload("kafka").params_from(TestOptions(workload="kafka", bin="")).key_count == 5
    assert load_workload("kafka").params_from(TestOptions(workload="kafka", bin="", key_count=0)).key_count == 5
    lin = load_workload("lin-kv").params_from(TestOptions(workload="lin-kv", bin="", node_count=3, concurrency="2n"))
    assert (lin.key_count, lin.node_count, lin.workers) == (None, 3, 6)
    assert load_workload("echo").Params is NoParams


def test_workload_parameters_for_the_command_line() -> None:
    specs = workload_parameters()
    assert set(specs) == set(WORKLOADS)
    assert {"consistency_models", "max_txn_length", "key_count"} <= {s.name for s in specs["txn-list-append"]}
    assert [s.name for s in specs["lin-kv"]] == ["key_count"]  # node count and clients come from the run
    topo = specs["broadcast"][0]
    assert (topo.name, topo.default) == ("topology", "grid") and "grid" in topo.help
    assert specs["echo"] == [] and specs["g-set"] == []
    option_names = set(TestOptions.__dataclass_fields__)
    assert all(s.name in option_names for ss in specs.values() for s in ss)
