"""Reading a run directory: the fast readers give what a full JSON parse gives, for the
fields the report uses, on distlab's own files and on lines in any other layout."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from distlab.examples import example_path
from distlab.options import TestOptions
from distlab.report.rundir import (
    BODY_LIMIT,
    LONG_LINE,
    TRUNCATED,
    ReportError,
    read_history,
    read_messages,
)
from distlab.runner import run_test

KEPT = ("index", "time", "process", "type", "f")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Broadcast on 3 nodes for long enough that reads carry bodies over BODY_LIMIT."""
    store = tmp_path_factory.mktemp("store")
    return run_test(TestOptions(
        workload="broadcast", bin=str(example_path("broadcast")), node_count=3, time_limit=10.0, rate=300.0,
        nemesis=["partition"], nemesis_interval=2.0, seed=6, store=str(store),
    )).run_dir


def test_history_matches_a_full_parse(run_dir: Path) -> None:
    lines = (run_dir / "history.jsonl").read_text().splitlines()
    fast = read_history(run_dir / "history.jsonl")
    assert len(fast) == len(lines)
    long = 0
    for got, line in zip(fast, lines, strict=True):
        want = json.loads(line)
        if len(line) > LONG_LINE:  # a long read: only what the report uses is kept
            assert got == {k: want[k] for k in KEPT}
            long += 1
        else:
            assert got == want
    assert long > 0, "the run should hold reads longer than LONG_LINE"


def test_trace_matches_a_full_parse_and_long_bodies_are_cut(run_dir: Path) -> None:
    full = [json.loads(line) for line in (run_dir / "messages.jsonl").read_text().splitlines()]
    fast = read_messages(run_dir / "messages.jsonl")
    assert len(fast) == len(full)
    cut = 0
    for got, want in zip(fast, full, strict=True):
        if want["ev"] != "send" or len(orjson.dumps(want["body"])) <= BODY_LIMIT:
            assert got == want
            continue
        cut += 1
        body, whole = got.pop("body"), want.pop("body")
        assert got == want
        assert body["type"] == whole["type"]
        assert body.get("msg_id") == whole.get("msg_id") and body.get("in_reply_to") == whole.get("in_reply_to")
        assert body["text"] == orjson.dumps(whole).decode()[:BODY_LIMIT] and TRUNCATED in body
    assert cut > 0, "the run should hold reads longer than BODY_LIMIT"


def test_lines_in_another_layout_are_parsed_whole(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    values = list(range(400))  # a line longer than LONG_LINE
    foreign = {"type": "ok", "process": 0, "f": "read", "time": 5, "value": values}
    own = {"index": 1, "time": 7, "process": 0, "type": "ok", "f": "read", "value": values}
    history.write_bytes(b"\n".join([
        b'{"type": "invoke", "process": 0, "f": "read", "time": 5, "value": null}', b"",
        orjson.dumps(foreign), orjson.dumps(own), orjson.dumps({**own, "value": [1]})]) + b"\n")
    assert len(orjson.dumps(own)) > LONG_LINE
    assert read_history(history) == [
        {"type": "invoke", "process": 0, "f": "read", "time": 5, "value": None},
        foreign,  # another layout: parsed whole, however long
        {"index": 1, "time": 7, "process": 0, "type": "ok", "f": "read"},  # own and long: what the report uses
        {**own, "value": [1]},
    ]
    trace = tmp_path / "messages.jsonl"
    trace.write_text('{"ev": "send", "t": 1, "id": 1, "src": "c1", "dest": "n1", "body": {"type": "echo"}}\n'
                     '{"t":2,"ev":"drop","id":1,"why":"down"}\n')
    assert read_messages(trace) == [
        {"ev": "send", "t": 1, "id": 1, "src": "c1", "dest": "n1", "body": {"type": "echo"}},
        {"t": 2, "ev": "drop", "id": 1, "why": "down"},
    ]


def test_a_long_bodys_ids_come_from_its_end(tmp_path: Path) -> None:
    body = {"type": "read_ok", "messages": list(range(3000)), "note": {"type": "inner", "msg_id": 1},
            "msg_id": 9, "in_reply_to": 41}
    trace = tmp_path / "messages.jsonl"
    trace.write_bytes(b'{"t":3,"ev":"send","id":5,"src":"n1","dest":"c2","body":' + orjson.dumps(body) + b"}\n")
    [event] = read_messages(trace)
    assert {k: event["body"][k] for k in ("type", "msg_id", "in_reply_to")} == {"type": "read_ok", "msg_id": 9, "in_reply_to": 41}


@pytest.mark.parametrize("text", ['{"t":0,"ev":"send","id":1,"src":"c1","dest":"n1","body":{"type":"ec\n',
                                  '[1, 2]\n', 'nonsense\n'])
def test_a_bad_trace_line_is_named(tmp_path: Path, text: str) -> None:
    trace = tmp_path / "messages.jsonl"
    trace.write_text('{"t":0,"ev":"recv","id":1}\n' + text)
    with pytest.raises(ReportError, match=r"messages.jsonl:2: not"):
        read_messages(trace)
