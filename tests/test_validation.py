"""Request validation: the checker on known-good and known-bad histories, the workloads'
requests against an independent schema check, and nodes end to end."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from distlab.checkers import validation
from distlab.tracks.explain import reasons
from distlab.workloads.validation import EchoValidation, SchemaValidation
from tests.test_cli import distlab, latest

TASKS = Path(__file__).resolve().parents[1] / "distlab" / "tracks" / "messenger"


def history(*calls: tuple[dict[str, Any], str, Any]) -> list[dict[str, Any]]:
    """Each call: (case, completion type, reply value or error [code, text]); None type: no completion."""
    recs: list[dict[str, Any]] = []
    for p, (case, type_, result) in enumerate(calls):
        recs.append({"index": len(recs), "time": len(recs) * 10**8, "process": p, "type": "invoke",
                     "f": "call", "value": case})
        if type_ is None:
            continue
        rec = {"index": len(recs), "time": len(recs) * 10**8, "process": p, "type": type_, "f": "call"}
        if type_ == "ok":
            rec["value"] = result
        else:
            rec["value"], rec["error"] = case, result
        recs.append(rec)
    return recs


GOOD_ADD = {"request": {"type": "add", "a": 2, "b": 3}, "expect": "ok", "why": ""}
BOOL_ADD = {"request": {"type": "add", "a": True, "b": 3}, "expect": 12, "why": "field 'a' is a boolean, not an integer"}
UNKNOWN = {"request": {"type": "ping"}, "expect": 10, "why": "a message type this service does not define"}


def test_the_right_answers_and_codes_are_valid() -> None:
    r = validation.check(history((GOOD_ADD, "ok", {"type": "add_ok", "sum": 5}),
                                 (BOOL_ADD, "fail", [12, "a must be an integer"]),
                                 (UNKNOWN, "fail", [10, "unknown type"])))
    assert r["valid"] is True, r
    assert r["unknown_types"] == ["ping"]


@pytest.mark.parametrize(("call", "kind", "words"), [
    ((BOOL_ADD, "ok", {"type": "add_ok", "sum": 4}), "accepted", "as if it were fine"),
    ((BOOL_ADD, "fail", [13, "TypeError: x"]), "crashed", "error 13 (crash)"),
    ((BOOL_ADD, "fail", [10, "no"]), "wrong_code", "must get error 12"),
    ((UNKNOWN, "fail", [12, "bad"]), "wrong_code", "must get error 10"),
    ((GOOD_ADD, "fail", [12, "strict"]), "rejected", "rejected with error 12"),
    ((GOOD_ADD, "ok", {"type": "add_ok", "sum": 6}), "wrong_answer", "sum=6, expected 5"),
    ((GOOD_ADD, "ok", {"type": "add_ok", "sum": 5.0}), "wrong_answer", "expected 5"),
    ((GOOD_ADD, "ok", {"type": "echo_ok"}), "wrong_answer", "not 'add_ok'"),
    ((GOOD_ADD, "fail", [0, "client timed out"]), "unanswered", "no reply in time"),
    ((GOOD_ADD, None, None), "unanswered", "no reply at all"),
    ((GOOD_ADD, "info", ["malformed-reply", "KeyError"]), "wrong_answer", "could not read"),
])
def test_each_failure_is_caught_and_said(call: tuple[Any, ...], kind: str, words: str) -> None:
    r = validation.check(history((GOOD_ADD, "ok", {"type": "add_ok", "sum": 5}), call))
    assert r["valid"] is False
    assert r[kind], r
    assert words in r["explanation"].splitlines()[0]
    assert "{" not in r["explanation"]


def test_expected_replies() -> None:
    assert validation.expected_reply({"type": "join", "parts": ["a", "b"]}) == {"type": "join_ok", "text": "a b"}
    assert validation.expected_reply({"type": "join", "parts": [], "sep": "-"})["text"] == ""
    assert validation.expected_reply({"type": "echo", "echo": "x"}) == {"type": "echo_ok", "echo": "x"}


def test_error_10_probes_are_no_node_error_but_a_missing_handler_is(tmp_path: Path) -> None:
    """The types the workload sends on purpose are answered error 10 by a correct node (here
    the SDK itself): no node error, nothing red in the summary. A node without the echo
    handler answers error 10 to real requests too: that is a node error, said first."""
    reference = Path(__file__).resolve().parent.parent / "distlab/tracks/messenger/16-reject-malformed/reference.py"
    args = ["test", "-w", "echo-validation", "--node-count", "1", "--time-limit", "3", "-q", "--seed", "1"]
    proc = distlab(*args, "--bin", str(reference), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    results = orjson.loads((latest(tmp_path) / "results.json").read_bytes())
    assert results["node_errors"] == [] and "node error" not in proc.stdout
    (tmp_path / "deaf.py").write_text("from distlab import Node\nnode = Node()\nif __name__ == '__main__':\n    node.run()\n")
    proc = distlab(*args, "--bin", str(tmp_path / "deaf.py"), cwd=tmp_path)
    results = orjson.loads((latest(tmp_path) / "results.json").read_bytes())
    assert proc.returncode == 1
    assert [e["type"] for e in results["node_errors"]] == ["echo"]
    assert reasons(results)[0].startswith("node error: n0: no handler for 'echo'")


def _independent(body: dict[str, Any]) -> str | int:
    """What a request deserves, written apart from the workload: ok, 12 or 10."""
    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)
    fields = {"echo": {"echo": ("s", True)}, "add": {"a": ("i", True), "b": ("i", True)},
              "join": {"parts": ("ls", True), "sep": ("s", False)}}
    schema = fields.get(body.get("type"))
    if schema is None:
        return 10
    for name, (kind, required) in schema.items():
        if name not in body:
            if required:
                return 12
            continue
        v = body[name]
        good = (isinstance(v, str) if kind == "s" else is_int(v) if kind == "i"
                else isinstance(v, list) and all(isinstance(x, str) for x in v))
        if not good:
            return 12
    return "ok"


@pytest.mark.parametrize("cls", [EchoValidation, SchemaValidation])
def test_every_request_is_what_the_workload_says(cls: type) -> None:
    wl = cls(None, random.Random(5))
    seen: set[Any] = set()
    for _ in range(3000):
        op = wl.next_op(0)
        body = wl.request(op)
        assert _independent(body) == op.value["expect"], op.value
        seen.add(op.value["expect"])
        assert body is not op.value["request"]  # built fresh: a node may change what it gets
    assert seen == {"ok", 10, 12}
    if cls is EchoValidation:
        return
    kinds = {wl.next_op(0).value["request"]["type"] for _ in range(500)}
    assert {"echo", "add", "join"} <= kinds


@pytest.mark.parametrize(("workload", "node", "valid"), [
    ("echo-validation", "16-reject-malformed/reference.py", True),
    ("echo-validation", "16-reject-malformed/mutants/no_checks.py", False),
    ("schema-validation", "17-typed-schemas/reference.py", True),
    ("schema-validation", "16-reject-malformed/reference.py", False),  # no add, no join: error 10 to good ones
    ("schema-validation", "17-typed-schemas/mutants/bool_is_int.py", False),
])
def test_end_to_end(simulate: Any, workload: str, node: str, valid: bool) -> None:
    result = simulate("echo", bin=str(TASKS / node), workload=workload, node_count=1, time_limit=5, rate=20)
    assert (result.valid is True) == valid, result.results["workload"].get("explanation")
