"""A run's operations per client process, as Maelstrom's timeline.html draws them: a column
per process, each operation a bar from its invocation to its completion, coloured by
outcome (ok, fail, info: unknown), with the function, value and reply on hover; nemesis
operations as bands across every column.

Self-contained HTML (no script), so it opens from file:// and in report.html. Past
MAX_OPS operations the rest are counted, not drawn: history.jsonl keeps them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

import orjson

from distlab.history import pairs

MAX_OPS = 5000
PX_PER_SECOND = 80.0
COLUMN_PX = 70
MIN_BAR_PX = 3
COLOURS = {"ok": "#bfe6bf", "fail": "#f6c3c3", "info": "#ffe39a", None: "#ffe39a"}
NS = 1e9


def _text(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def timeline_html(history: Iterable[dict[str, Any]]) -> str:
    """The timeline of a history (records in distlab's shape) as an HTML fragment."""
    records = list(history)
    ops = [(inv, done) for inv, done in pairs(records) if inv.get("process") != "nemesis"]
    end_ns = max((r.get("time") or 0 for r in records), default=0)
    processes = sorted({inv["process"] for inv, _ in ops}, key=lambda p: (isinstance(p, str), p))
    column = {p: i for i, p in enumerate(processes)}
    shown = ops[:MAX_OPS]
    height = max(40.0, end_ns / NS * PX_PER_SECOND + 20)
    width = max(1, len(processes)) * COLUMN_PX
    parts = [f'<div class="timeline" style="position:relative;width:{width + 60}px;height:{height:.0f}px;'
             'font:10px sans-serif" data-ops="%d" data-shown="%d">' % (len(ops), len(shown))]
    for start, stop, label in _nemesis_periods(records, end_ns):
        top, bottom = start / NS * PX_PER_SECOND, stop / NS * PX_PER_SECOND
        parts.append(f'<div class="nemesis" title="{escape(label)}" style="position:absolute;left:60px;'
                     f'top:{top:.1f}px;height:{max(bottom - top, 1):.1f}px;width:{width}px;'
                     'background:rgba(200,60,60,.08);border-top:1px dashed #c55"></div>')
    for second in range(int(end_ns / NS) + 1):
        parts.append(f'<div style="position:absolute;left:0;top:{second * PX_PER_SECOND:.0f}px;color:#888">'
                     f"{second} s</div>")
    for p in processes:
        parts.append(f'<div style="position:absolute;left:{60 + column[p] * COLUMN_PX}px;top:0;'
                     f'color:#555">p{escape(str(p))}</div>')
    for inv, done in shown:
        outcome = done.get("type") if done else None
        t0 = (inv.get("time") or 0) / NS * PX_PER_SECOND + 14
        t1 = ((done.get("time") if done else end_ns) or 0) / NS * PX_PER_SECOND + 14
        tip = f"{inv.get('f')} {_text(inv.get('value'))} -> {outcome or 'no reply'}"
        if done is not None:
            tip += f" {_text(done.get('value'))}" + (f" ({_text(done['error'])})" if done.get("error") else "")
        parts.append(f'<div class="op {outcome or "info"}" title="{escape(tip)}" style="position:absolute;'
                     f'left:{62 + column[inv["process"]] * COLUMN_PX}px;top:{t0:.1f}px;'
                     f'height:{max(t1 - t0, MIN_BAR_PX):.1f}px;width:{COLUMN_PX - 6}px;'
                     f'background:{COLOURS.get(outcome, "#ddd")};border:1px solid #999;overflow:hidden;'
                     f'box-sizing:border-box">{escape(str(inv.get("f")))}</div>')
    parts.append("</div>")
    if len(ops) > len(shown):
        parts.append(f"<p>The first {len(shown)} of {len(ops)} operations are drawn; history.jsonl holds them all.</p>")
    return "".join(parts)


def _nemesis_periods(records: list[dict[str, Any]], end_ns: int) -> list[tuple[int, int, str]]:
    """(start, stop, what) of each fault: from a nemesis `start-X` to its `stop-X`
    (or the run's end when it was never stopped)."""
    open_at: dict[str, tuple[int, str]] = {}
    out: list[tuple[int, int, str]] = []
    for r in records:
        if r.get("process") != "nemesis" or r.get("type") != "invoke":
            continue
        f = str(r.get("f") or "")
        kind, _, fault = f.partition("-")
        if kind == "start" and fault not in open_at:
            open_at[fault] = (r.get("time") or 0, f"{fault}: {_text(r.get('value'), 200)}")
        elif kind == "stop" and fault in open_at:
            start, label = open_at.pop(fault)
            out.append((start, r.get("time") or 0, label))
    out += [(start, end_ns, label) for start, label in open_at.values()]
    return sorted(out)
