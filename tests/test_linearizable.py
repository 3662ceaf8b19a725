"""Linearizability checker: verdicts on every reference history, budget, explanations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from distlab.checkers.linearizable import (
    MODELS,
    UNKNOWN,
    LinResult,
    Model,
    check,
    get_model,
    write_html,
)
from tests.test_history_readers import DATA, data_files, load

ETCD_LINEARIZABLE = {2, 5, 7, 18, 25, 31, 38, 45, 48, 49, 51, 53, 56, 67, 75, 76, 80, 87, 92,
                     98, 100, 101, 102}


def _id(p: Path) -> str:
    return str(p.relative_to(DATA))


@pytest.mark.parametrize("path", data_files("porcupine/jepsen/*.log"), ids=_id)
def test_etcd_verdict(path: Path) -> None:
    n = int(path.stem.split("_")[1])
    result = check(list(load(path)), "cas-register")
    assert result.valid is (n in ETCD_LINEARIZABLE), result.explain()


@pytest.mark.parametrize("path", data_files("porcupine/kv/*.txt"), ids=_id)
def test_kv_verdict(path: Path) -> None:
    result = check(list(load(path)), "kv")
    assert result.valid is path.stem.endswith("-ok"), result.explain()
    assert 1 < result.partitions <= 10


@pytest.mark.parametrize("model", ["cas-register", "cas-register-knossos"])
@pytest.mark.parametrize("path", data_files("knossos/cas-register/*/*.edn"), ids=_id)
def test_knossos_verdict(path: Path, model: str) -> None:
    result = check(list(load(path)), model)
    assert result.valid is (path.parent.name == "good"), result.explain()


def test_knossos_readings_differ() -> None:
    # An ok read of nil right at the start: legal in both readings; a read of 0
    # before any write only under Knossos's (initial 0).
    h = [{"process": 0, "type": "invoke", "f": "read", "value": None},
         {"process": 0, "type": "ok", "f": "read", "value": 0}]
    assert check(h, "cas-register").valid is False
    assert check(h, "cas-register-knossos").valid is True


def test_budget_gives_unknown() -> None:
    h = list(load(DATA / "porcupine/kv/c50-ok.txt"))
    result = check(h, "kv", budget=0.001, quantum=200)
    assert result.valid == "unknown"
    assert "budget" in result.explain()


def test_first_illegal_partition_ends_check() -> None:
    # c50-ok's partitions cost ~100k configurations; an illegal key with three
    # operations must end the check long before they are explored.
    h = list(load(DATA / "porcupine/kv/c50-ok.txt"))
    full = check(h, "kv")
    bad = [{"process": 900, "type": "invoke", "f": "put", "key": "zz", "value": "a"},
           {"process": 900, "type": "ok", "f": "put", "key": "zz", "value": "a"},
           {"process": 901, "type": "invoke", "f": "get", "key": "zz", "value": None},
           {"process": 901, "type": "ok", "f": "get", "key": "zz", "value": "b"}]
    mixed = h[: len(h) // 2] + bad + h[len(h) // 2:]
    result = check(mixed, "kv")
    assert result.valid is False
    assert result.failure is not None and result.failure.key == "zz"
    assert result.configs < full.configs / 10


def test_fail_dropped_info_may_happen_or_not() -> None:
    def h(*recs: tuple[Any, ...]) -> list[dict[str, Any]]:
        return [{"process": p, "type": t, "f": f, "value": v} for p, t, f, v in recs]

    # A failed write never happened: reading its value is illegal.
    assert check(h((0, "invoke", "write", 1), (0, "fail", "write", 1),
                   (1, "invoke", "read", None), (1, "ok", "read", 1))).valid is False
    # An info write may take effect long after its call...
    assert check(h((0, "invoke", "write", 1), (0, "info", "write", 1),
                   (1, "invoke", "write", 2), (1, "ok", "write", 2),
                   (1, "invoke", "read", None), (1, "ok", "read", 1))).valid is True
    # ... or never.
    assert check(h((0, "invoke", "write", 1), (0, "info", "write", 1),
                   (1, "invoke", "read", None), (1, "ok", "read", None))).valid is True
    # A call with no completion is the same as info; a failed read constrains nothing.
    assert check(h((0, "invoke", "write", 1), (1, "invoke", "read", None),
                   (1, "fail", "read", 7), (2, "invoke", "read", None),
                   (2, "ok", "read", 1))).valid is True
    # But not before its call.
    assert check(h((1, "invoke", "read", None), (1, "ok", "read", 1),
                   (0, "invoke", "write", 1), (0, "info", "write", 1))).valid is False


def test_nemesis_ignored_and_empty_history() -> None:
    assert check([], "cas-register").valid is True
    h = [{"process": "nemesis", "type": "info", "f": "start", "value": None},
         {"process": 0, "type": "invoke", "f": "write", "value": 3},
         {"process": "nemesis", "type": "info", "f": "stop", "value": None},
         {"process": 0, "type": "ok", "f": "write", "value": 3}]
    r = check(h, "cas-register")
    assert r.valid is True and r.ops == 1


def test_explanation_names_failing_op(tmp_path: Path) -> None:
    h = list(load(DATA / "knossos/cas-register/bad/rethink-fail-minimal.edn"))
    result = check(h, "cas-register")
    assert result.valid is False and result.failure is not None
    assert result.failure.op.f == "read" and result.failure.op.result == 3
    text = result.explain()
    assert "cannot linearize: read -> 3 (process 1" in text
    assert "write 0" in text and "write 4" in text and "state 4" in text
    page = write_html(result, tmp_path / "lin.html")
    html = page.read_text()
    assert html.startswith("<!doctype html>") and "NOT linearizable" in html
    assert "read -&gt; 3" in html and "write 4" in html and "state after: 4" in html
    assert "http" not in html.replace("http-equiv", "")  # no external assets


def test_explanation_kv_partition(tmp_path: Path) -> None:
    result = check(list(load(DATA / "porcupine/kv/c10-bad.txt")), "kv")
    assert result.valid is False and result.failure is not None
    text = result.explain()
    assert f"in partition {result.failure.key!r}" in text
    assert result.model.describe_op(result.failure.op.input, result.failure.op.output) in text
    html = write_html(result, tmp_path / "kv.html").read_text()
    assert html.count('class="op ') >= len(result.failure.ops)


def test_valid_result_explain_and_html(tmp_path: Path) -> None:
    result = check(list(load(DATA / "porcupine/jepsen/etcd_005.log")), "cas-register")
    assert isinstance(result, LinResult) and result.valid is True
    assert result.explain().startswith("linearizable:")
    assert result.ops > 0 and result.elapsed >= 0
    assert "linearizable" in write_html(result, tmp_path / "ok.html").read_text()


def test_models_by_name() -> None:
    assert set(MODELS) >= {"register", "cas-register", "kv", "set", "fifo-queue"}
    assert get_model("kv") is MODELS["kv"]
    with pytest.raises(ValueError, match="unknown model"):
        get_model("nope")
    with pytest.raises(ValueError, match="cas value"):
        check([{"process": 0, "type": "invoke", "f": "cas", "value": 3}], "cas-register")
    with pytest.raises(ValueError, match="unknown operation"):
        check([{"process": 0, "type": "invoke", "f": "cas", "value": [1, 2]}], "register")


class Counter(Model):
    """A user-written model: an increment-only counter with unhashable (list) state."""

    name = "counter"

    def init(self) -> Any:
        return [0]

    def operation(self, invoke: dict[str, Any], complete: dict[str, Any] | None) -> Any:
        if invoke["f"] == "read":
            return None if complete is None else (("read", None), complete["value"])
        return ("add", invoke["value"]), None

    def step(self, state: Any, input: Any, output: Any) -> tuple[bool, Any]:
        if input[0] == "read":
            return output is UNKNOWN or output == state[0], state
        return True, [state[0] + input[1]]

    def hash_state(self, state: Any) -> Any:
        return state[0]


def test_user_model_with_unhashable_state() -> None:
    h = [{"process": 0, "type": "invoke", "f": "add", "value": 2},
         {"process": 1, "type": "invoke", "f": "add", "value": 3},
         {"process": 2, "type": "invoke", "f": "read", "value": None},
         {"process": 2, "type": "ok", "f": "read", "value": 3},
         {"process": 0, "type": "ok", "f": "add", "value": 2},
         {"process": 1, "type": "ok", "f": "add", "value": 3},
         {"process": 2, "type": "invoke", "f": "read", "value": None},
         {"process": 2, "type": "ok", "f": "read", "value": 5}]
    assert check(h, Counter()).valid is True
    h[-1] = dict(h[-1], value=4)
    assert check(h, Counter()).valid is False


def test_c50_bad_is_fast() -> None:
    """An illegal key ends the check early: counted in configurations explored, not
    seconds (benchmarks/lincheck.py reports the time, side by side with Porcupine)."""
    bad = check(list(load(DATA / "porcupine/kv/c50-bad.txt")), "kv")
    ok = check(list(load(DATA / "porcupine/kv/c50-ok.txt")), "kv")
    assert bad.valid is False and ok.valid is True
    assert bad.configs < 500  # 209 today
    assert bad.configs < ok.configs / 20  # c50-ok: 12440
