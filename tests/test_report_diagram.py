"""messages.html: the Lamport diagram's embedded data matches the trace it was drawn from.

Counts are taken from messages.jsonl here, independently of distlab.report.diagram: one
arrow per delivery, one stub per drop and one per message never delivered. The page's
script is run under node (when installed) against a stub DOM, as a smoke test that it
loads, draws, selects and follows chains without throwing; real-browser checks are
separate.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from distlab.examples import example_path
from distlab.options import TestOptions
from distlab.report.diagram import diagram_data, embed_json, render
from distlab.report.rundir import (
    BODY_LIMIT,
    ReportError,
    RunDir,
    nemesis_periods,
    read_history,
    read_messages,
)
from distlab.runner import run_test

_DATA = re.compile(r'<script type="application/json" id="distlab-data">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Broadcast on 3 nodes under partitions, kills, 5% loss and 5% duplication: deliveries
    (some twice), drops of both kinds (partition, down) and lost messages, all in a few
    hundred lines."""
    store = tmp_path_factory.mktemp("store")
    result = run_test(TestOptions(
        workload="broadcast", bin=str(example_path("broadcast")), node_count=3, time_limit=4.0, rate=20.0,
        nemesis=["partition", "kill"], nemesis_interval=0.7, loss=0.05, duplication=0.05, seed=2,
        store=str(store),
    ))
    return result.run_dir


def trace_counts(path: Path) -> dict[str, Any]:
    """What the diagram must show, counted straight from messages.jsonl."""
    sent: dict[int, dict[str, Any]] = {}
    delivered: Counter[int] = Counter()
    dropped: Counter[int] = Counter()
    whys: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        ev = json.loads(line)
        if ev["ev"] == "send":
            sent[ev["id"]] = ev
        elif ev["ev"] == "recv":
            delivered[ev["id"]] += 1
        elif ev["ev"] == "drop":
            dropped[ev["id"]] += 1
            whys[ev["why"]] += 1
    never = sum(1 for i in sent if not delivered[i] and not dropped[i])
    if never:
        whys["lost"] = never
    return {"messages": len(sent), "arrows": sum(delivered.values()), "drops": sum(dropped.values()) + never,
            "whys": whys, "sent": sent, "twice": sum(1 for n in delivered.values() if n > 1)}


def test_the_run_has_every_kind_of_arrow(run_dir: Path) -> None:
    """The fixture is only a good test if it holds deliveries, duplicates, both drop reasons and losses."""
    counts = trace_counts(run_dir / "messages.jsonl")
    assert counts["arrows"] > 50 and counts["twice"] > 0
    assert counts["whys"]["partition"] > 0 and counts["whys"]["down"] > 0 and counts["whys"]["lost"] > 0


def test_embedded_data_has_exactly_the_traced_arrows_and_drops(run_dir: Path) -> None:
    counts = trace_counts(run_dir / "messages.jsonl")
    html = render(diagram_data(RunDir.load(run_dir)))
    match = _DATA.search(html)
    assert match is not None
    data = json.loads(match.group(1))
    assert data["counts"] == {"messages": counts["messages"], "arrows": counts["arrows"], "drops": counts["drops"]}
    assert len(data["arr"]["s"]) == counts["arrows"] + counts["drops"]
    assert len(data["msg"]["id"]) == counts["messages"]
    by_why = Counter(data["whys"][w] for w in data["arr"]["w"] if w >= 0)
    assert by_why == counts["whys"]
    assert data["arr"]["s"] == sorted(data["arr"]["s"])  # the page binary-searches send times
    assert all(e >= s for s, e in zip(data["arr"]["s"], data["arr"]["e"], strict=True))


def test_lanes_kinds_and_request_reply_pairs(run_dir: Path) -> None:
    data = diagram_data(RunDir.load(run_dir))
    lanes, msg = data["lanes"], data["msg"]
    clients = [name for name in lanes if name.startswith("c")]
    assert lanes == clients + ["n0", "n1", "n2"]  # clients left of the nodes, as Maelstrom draws them
    assert clients == sorted(clients, key=lambda c: int(c[1:]))
    assert data["laneKind"] == [2] * len(clients) + [0, 0, 0]
    sent = trace_counts(run_dir / "messages.jsonl")["sent"]
    paired = 0
    for i, trace_id in enumerate(msg["id"]):
        ev = sent[trace_id]
        assert lanes[msg["src"][i]] == ev["src"] and lanes[msg["dst"][i]] == ev["dest"]
        assert data["types"][msg["ty"][i]] == ev["body"]["type"]
        client = ev["src"].startswith("c") or ev["dest"].startswith("c")
        assert data["kinds"][msg["k"][i]] == ("error" if ev["body"]["type"] == "error" else
                                             "client" if client else "server")
        q = msg["q"][i]
        if q >= 0:  # the request it answers: sent by this reply's destination, with that msg_id
            request = sent[msg["id"][q]]
            assert request["src"] == ev["dest"] and request["body"]["msg_id"] == ev["body"]["in_reply_to"]
            paired += 1
    assert paired > 40


def test_causes_are_same_instant_receipts_at_the_sender(run_dir: Path) -> None:
    """The simulator answers a broadcast at the instant it arrives: the reply's cause is the request."""
    data = diagram_data(RunDir.load(run_dir))
    msg, types = data["msg"], data["types"]
    replies = [i for i, ty in enumerate(msg["ty"]) if types[ty] == "broadcast_ok"]
    assert replies
    assert all(msg["p"][i] == msg["q"][i] >= 0 for i in replies)
    sent_at = {}
    for s, m in zip(data["arr"]["s"], data["arr"]["m"], strict=True):
        sent_at[m] = s
    for i, p in enumerate(msg["p"]):
        if p >= 0:  # the cause went to this message's sender and was sent no later than it
            assert msg["dst"][p] == msg["src"][i] and sent_at[p] <= sent_at[i]


def test_nemesis_bands_follow_the_history(run_dir: Path) -> None:
    data = diagram_data(RunDir.load(run_dir))
    history = read_history(run_dir / "history.jsonl")
    starts = [r for r in history if r["process"] == "nemesis" and r["type"] == "info" and r["f"].startswith("start-")]
    assert len(data["bands"]) == len(starts) > 0
    assert {b["kind"] for b in data["bands"]} == {"partition", "kill"}
    assert all(0 <= b["start"] <= b["stop"] <= data["end"] for b in data["bands"])


def test_nemesis_periods_pair_starts_and_stops() -> None:
    rec = [
        {"process": "nemesis", "type": "info", "f": "start-partition", "time": 1_000_000_000,
         "value": {"shape": "halves", "grudge": {"n1": ["n2"]}}},
        {"process": 0, "type": "invoke", "f": "read", "time": 1_500_000_000},
        {"process": "nemesis", "type": "info", "f": "start-kill", "time": 2_000_000_000, "value": ["n3"]},
        {"process": "nemesis", "type": "info", "f": "stop-partition", "time": 3_000_000_000, "value": "healed"},
    ]
    periods = nemesis_periods(rec, 9.0)
    assert [(p["kind"], p["start"], p["stop"]) for p in periods] == [("partition", 1.0, 3.0), ("kill", 2.0, 9.0)]
    assert periods[0]["label"] == "partition: halves (n1 x n2)" and periods[1]["label"] == "kill: n3"


def test_page_is_self_contained_and_script_safe(run_dir: Path) -> None:
    html = render(diagram_data(RunDir.load(run_dir)))
    assert "http://" not in html and "https://" not in html and " src=" not in html
    assert html.count("<link") == html.count('<link rel="icon" href="data:,">')  # only the inline no-favicon
    script = html[html.index("<script>") + len("<script>"):html.rindex("</script>")]
    assert "</" not in script  # nothing in the script can close its element early
    assert html.count("</script>") == 2


def test_bodies_cannot_break_out_and_huge_bodies_are_cut(tmp_path: Path) -> None:
    run = _fake_run(tmp_path, [
        {"t": 0, "ev": "send", "id": 1, "src": "c1", "dest": "n1", "body": {"type": "echo", "echo": "</script><b>x", "msg_id": 1}},
        {"t": 0, "ev": "recv", "id": 1},
        {"t": 5, "ev": "send", "id": 2, "src": "n1", "dest": "c1", "body": {"type": "echo_ok", "echo": "y" * 10000, "in_reply_to": 1}},
        {"t": 5, "ev": "recv", "id": 2},
        {"t": 9, "ev": "recv", "id": 77},  # for no message sent: ignored
    ])
    data = diagram_data(run)
    assert data["counts"] == {"messages": 2, "arrows": 2, "drops": 0}
    assert data["msg"]["q"] == [-1, 0] and data["msg"]["p"] == [-1, -1]  # answered later: paired, no cause
    cut = data["msg"]["body"][1]
    assert cut["type"] == "echo_ok" and len(cut["text"]) == BODY_LIMIT
    text = embed_json(data)
    assert "<" not in text and json.loads(text)["msg"]["body"][0]["echo"] == "</script><b>x"
    html = render(data)
    assert "</script><b>" not in html


def test_an_empty_trace_is_a_page_not_an_error(tmp_path: Path) -> None:
    data = diagram_data(_fake_run(tmp_path, []))
    assert data["counts"] == {"messages": 0, "arrows": 0, "drops": 0} and data["lanes"] == []
    assert "distlab-data" in render(data)


def test_a_torn_trace_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "messages.jsonl"
    path.write_text('{"t":0,"ev":"send","id":1,\n"src":"c1"}\n')  # two halves that join into one object
    with pytest.raises(ReportError, match=r"messages.jsonl:1: not JSON"):
        read_messages(path)


def _fake_run(tmp_path: Path, events: list[dict[str, Any]]) -> RunDir:
    return RunDir(tmp_path, {"workload": "echo", "seed": 1, "nodes": ["n1"]}, {"valid": True}, [], events)


# ---- the page's script, run under node against a stub DOM ----------------------------------

_HARNESS = r"""
const fs = require('fs');
const html = fs.readFileSync(process.argv[2], 'utf8');
const data = html.match(/<script type="application\/json" id="distlab-data">([\s\S]*?)<\/script>/)[1];
const script = html.match(/<script>\n([\s\S]*?)\n<\/script>/)[1];
const calls = {stroke: 0, fill: 0, moves: 0};
class Path2D { moveTo() { calls.moves++; } lineTo() {} closePath() {} }
const ctx = new Proxy({}, {get: (t, k) => (k in t ? t[k] : (k === 'stroke' || k === 'fill') ? () => { calls[k]++; } : () => {}),
                           set: (t, k, v) => { t[k] = v; return true; }});
class Elem {
  constructor(tag, text) { this.tagName = tag.toUpperCase(); this.children = []; this.listeners = {}; this.style = {};
    this.attrs = {}; this._text = text || ''; this.checked = false; this.value = ''; this.offsetHeight = 20;
    this.classList = {add() {}, remove() {}}; }
  get textContent() { return this._text + this.children.map(c => c.textContent).join(''); }
  set textContent(v) { this._text = String(v); this.children = []; }
  appendChild(c) { this.children.push(c); return c; }
  insertBefore(c, ref) { const i = this.children.indexOf(ref); if (i < 0) this.children.push(c); else this.children.splice(i, 0, c); return c; }
  get lastChild() { return this.children[this.children.length - 1] || null; }
  setAttribute(k, v) { this.attrs[k] = v; if (k === 'value') this.value = v; }
  addEventListener(t, f) { (this.listeners[t] = this.listeners[t] || []).push(f); }
  fire(t, ev) { (this.listeners[t] || []).forEach(f => f(Object.assign({target: this, preventDefault() {}}, ev || {}))); }
  getBoundingClientRect() { return {left: 0, top: 0, width: 1000, height: 700}; }
  getContext() { return ctx; }
  find(pred) { if (pred(this)) return this; for (const c of this.children) { const f = c.find ? c.find(pred) : null; if (f) return f; } return null; }
}
const byId = {};
const document = {
  getElementById(id) { if (!byId[id]) byId[id] = new Elem(id === 'c' ? 'canvas' : 'div', id === 'distlab-data' ? data : ''); return byId[id]; },
  createElement(tag) { return new Elem(tag); },
  createTextNode(text) { return new Elem('#text', text); },
};
let frames = [];
const winListeners = {};
const window = {devicePixelRatio: 1, requestAnimationFrame(f) { frames.push(f); },
                addEventListener(t, f) { (winListeners[t] = winListeners[t] || []).push(f); }};
function flush() { while (frames.length) { const f = frames; frames = []; f.forEach(g => g()); } }
function fireWin(t, ev) { (winListeners[t] || []).forEach(f => f(Object.assign({preventDefault() {}}, ev))); }
new Function('window', 'document', 'Path2D', script)(window, document, Path2D);
const api = window.distlabDiagram;
flush();
const out = {ready: api.ready, arrows: api.arrows, drops: api.drops, messages: api.messages, errors: api.errors,
             visibleAll: api.visibleCount(), strokes: calls.stroke};
const canvas = document.getElementById('c');
for (let y = 40; y < 700; y += 13) canvas.fire('mousemove', {clientX: 300, clientY: y});
canvas.fire('wheel', {deltaY: -300, ctrlKey: true, clientY: 300, deltaMode: 0});
canvas.fire('wheel', {deltaY: 120, deltaX: 30, deltaMode: 1});
canvas.fire('mousedown', {clientX: 200, clientY: 200}); canvas.fire('mousemove', {clientX: 260, clientY: 320});
fireWin('mouseup', {target: canvas, clientX: 260, clientY: 320});
canvas.fire('mousedown', {clientX: 300, clientY: 300}); fireWin('mouseup', {target: canvas, clientX: 300, clientY: 300});
['+', '-', 'ArrowDown', 'ArrowUp', 'ArrowLeft', 'ArrowRight', '0'].forEach(k => fireWin('keydown', {key: k, target: {}}));
document.getElementById('zin').fire('click'); document.getElementById('zout').fire('click'); document.getElementById('fit').fire('click');
const go = document.getElementById('goto'); go.value = '1.5'; go.fire('change');
document.getElementById('fit').fire('click');
canvas.fire('mouseleave');
flush();
out.select0 = api.select(0);
out.detail = document.getElementById('detail').textContent;
const clientReq = Number(process.argv[3]);
out.chain = api.chain(clientReq);
out.detailChain = document.getElementById('detail').textContent;
flush();
out.selectBad = api.select(-5);
api.fit(); flush();
const inv = document.getElementById('involving'); inv.value = '0'; inv.fire('change'); flush();
out.visibleInvolving = api.visibleCount();
inv.value = '-1'; inv.fire('change');
const types = document.getElementById('types');
const none = types.find(e => e.tagName === 'BUTTON' && e._text === 'none'); none.fire('click'); flush();
out.visibleNone = api.visibleCount();
const all = types.find(e => e.tagName === 'BUTTON' && e._text === 'all'); all.fire('click'); flush();
out.visibleAgain = api.visibleCount();
const lanesMenu = document.getElementById('lanes');
const merge = lanesMenu.find(e => e.tagName === 'LABEL' && e.textContent.includes('one lane for all clients'));
merge.children[0].checked = !merge.children[0].checked; merge.children[0].fire('change'); api.fit(); flush();
out.visibleToggled = api.visibleCount();
fireWin('keydown', {key: 'Escape', target: {}}); flush();
out.errorsAfter = api.errors;
console.log(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (the real-browser tests cover the page)")
def test_page_script_runs_without_errors_under_a_stub_dom(run_dir: Path, tmp_path: Path) -> None:
    data = diagram_data(RunDir.load(run_dir))
    page = tmp_path / "messages.html"
    page.write_text(render(data))
    harness = tmp_path / "harness.js"
    harness.write_text(_HARNESS)
    msg, arr, types = data["msg"], data["arr"], data["types"]
    broadcast = next(m for m, ty in enumerate(msg["ty"]) if types[ty] == "broadcast")
    first_arrow = arr["m"].index(broadcast)
    proc = subprocess.run(["node", str(harness), str(page), str(first_arrow)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    counts = data["counts"]
    assert out["ready"] is True and out["errors"] == [] and out["errorsAfter"] == []
    assert (out["arrows"], out["drops"], out["messages"]) == (counts["arrows"], counts["drops"], counts["messages"])
    assert out["visibleAll"] == counts["arrows"] + counts["drops"]  # fitted: every arrow is in view
    assert out["strokes"] > 0
    assert out["select0"]["type"] == types[msg["ty"][arr["m"][0]]] and "sent 0.000000 s" in out["detail"]
    replies = [m for m, q in enumerate(msg["q"]) if q == broadcast]
    assert out["chain"] >= 1 + len(replies) and "Causal chain" in out["detailChain"]
    assert out["selectBad"] is None
    involving_n0 = sum(1 for m in arr["m"] if 0 in (msg["src"][m], msg["dst"][m]))
    assert out["visibleInvolving"] == involving_n0
    assert out["visibleNone"] == 0 and out["visibleAgain"] == out["visibleAll"]
    assert out["visibleToggled"] == out["visibleAll"]  # clients in one lane or each in its own: all drawn


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (the real-browser tests cover the page)")
def test_page_script_copes_with_an_empty_trace(tmp_path: Path) -> None:
    page = tmp_path / "messages.html"
    page.write_text(render(diagram_data(_fake_run(tmp_path, []))))
    harness = tmp_path / "harness.js"
    harness.write_text(_HARNESS)
    proc = subprocess.run(["node", str(harness), str(page), "0"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["ready"] is True and out["errors"] == [] and out["errorsAfter"] == []
    assert (out["arrows"], out["drops"], out["visibleAll"], out["chain"]) == (0, 0, 0, 0)
    assert out["select0"] is None


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (the real-browser tests cover the page)")
def test_page_script_draws_a_dense_trace_as_activity_then_arrows_when_zoomed(tmp_path: Path) -> None:
    events: list[dict[str, Any]] = []
    for i in range(6000):  # 12,000 arrows in 6 s: too many to tell apart when the whole run is in view
        t = i * 1_000_000
        events += [{"t": t, "ev": "send", "id": 2 * i + 1, "src": "c1", "dest": "n1", "body": {"type": "read", "msg_id": i}},
                   {"t": t, "ev": "recv", "id": 2 * i + 1},
                   {"t": t + 300_000, "ev": "send", "id": 2 * i + 2, "src": "n1", "dest": "c1",
                    "body": {"type": "read_ok", "in_reply_to": i}},
                   {"t": t + 300_000, "ev": "recv", "id": 2 * i + 2}]
    page = tmp_path / "messages.html"
    page.write_text(render(diagram_data(_fake_run(tmp_path, events))))
    harness = tmp_path / "harness.js"
    harness.write_text(_HARNESS.replace("const out = {", "api.zoomTo(1, 1.05); flush(); const zoomed = api.visibleCount(); api.fit(); flush();\n"
                                                      "const out = {zoomed,"))
    proc = subprocess.run(["node", str(harness), str(page), "10"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["ready"] is True and out["errors"] == [] and out["errorsAfter"] == []
    assert out["arrows"] == 12000 and out["visibleAll"] == 12000
    assert 0 < out["zoomed"] < 400  # zoomed in: arrows again, only those in view
    assert out["chain"] == 2  # a read and its read_ok
