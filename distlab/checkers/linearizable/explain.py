"""Explanations of linearizability verdicts: text and a standalone HTML page.

For an illegal history the checker keeps the longest partial linearization it
found and the operation whose return it could not get past; that is what a
person needs to find the bug (as Knossos and Porcupine show it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .search import LinResult, Operation


def _describe(result: LinResult, op: Operation) -> str:
    return result.model.describe_op(op.input, op.output)


def _where(op: Operation) -> str:
    ret = f"returned at record {op.ret}" if op.ret is not None else "outcome unknown"
    return f"process {op.process}, called at record {op.call}, {ret}"


def explain_text(result: LinResult, limit: int = 30) -> str:
    """A few lines: the verdict and, when illegal, why (the last `limit` steps of
    the longest partial linearization, each with the state after it)."""
    head = (f"{result.ops} operations, {result.partitions} partition(s), "
            f"checked in {result.elapsed * 1000:.1f} ms (model {result.model.name})")
    if result.valid is True:
        return f"linearizable: {head}"
    if result.valid == "unknown":
        return f"unknown: {result.reason or 'search did not finish'}; {head}"
    fail = result.failure
    if fail is None:
        return f"NOT linearizable: {head}"
    model = result.model
    op = fail.op
    lines = [f"NOT linearizable: {head}"]
    if fail.key is not None:
        lines.append(f"in partition {fail.key!r} ({len(fail.ops)} operations)")
    lines.append(f"cannot linearize: {_describe(result, op)} ({_where(op)})")
    n = len(fail.partial)
    lines.append(f"longest partial linearization before it: {n} operation(s), "
                 f"from initial state {model.describe_state(fail.states[0])}")
    start = max(0, n - limit)
    if start:
        lines.append(f"  ... {start} earlier operation(s)")
    for k in range(start, n):
        p = fail.partial[k]
        lines.append(f"  {k + 1:4d}. {_describe(result, p):<32} process {p.process!s:<8} "
                     f"-> state {model.describe_state(fail.states[k + 1])}")
    ok, _new = model.step(fail.state, op.input, op.output)
    state = model.describe_state(fail.state)
    if not ok:
        lines.append(f"then {_describe(result, op)} is not legal in state {state}, and no other "
                     "order of the concurrent operations gets past its return")
    else:
        lines.append(f"from state {state} no order of the operations concurrent with "
                     f"{_describe(result, op)} gets past its return")
    return "\n".join(lines)


_TEMPLATE_TEXT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>{{ title }}</title>
<style>
body { font: 13px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; } .verdict-bad { color: #b00; } .verdict-ok { color: #070; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; }
.timeline { position: relative; border-left: 1px solid #999; margin-top: 1em; }
.lane { position: relative; height: 22px; border-bottom: 1px solid #eee; }
.lane-label { position: absolute; left: -7em; width: 6.5em; text-align: right; color: #555;
  top: 3px; }
.op { position: absolute; top: 3px; height: 16px; border-radius: 3px; background: #bbb;
  font-size: 10px; color: #000; overflow: hidden; white-space: nowrap; box-sizing: border-box;
  border: 1px solid #888; min-width: 3px; padding-left: 2px; }
.op.info { background: repeating-linear-gradient(45deg,#ddd,#ddd 4px,#eee 4px,#eee 8px); }
.op.lin { background: #8fd18f; border-color: #2a7a2a; }
.op.failed { background: #f08080; border-color: #a00; border-width: 2px; }
.op:hover { outline: 2px solid #333; z-index: 2; }
.wrap { margin-left: 7.5em; }
table { border-collapse: collapse; margin-top: 1em; }
td, th { border: 1px solid #ddd; padding: 2px 6px; text-align: left; }
.legend span { display: inline-block; padding: 0 6px; margin-right: 8px; border-radius: 3px; }
</style></head><body>
<h1>{{ title }}: <span class="{{ 'verdict-ok' if valid is sameas true else 'verdict-bad' }}">
{{ verdict }}</span></h1>
<pre>{{ text }}</pre>
<p class="legend"><span class="op lin" style="position:static">linearized</span>
<span class="op failed" style="position:static">cannot be linearized</span>
<span class="op" style="position:static">other</span>
<span class="op info" style="position:static">outcome unknown</span>
Hover an operation for details and the model state after it. Time axis: record position.</p>
<div class="wrap"><div class="timeline" style="width: {{ width }}px">
{% for lane in lanes %}<div class="lane"><span class="lane-label">{{ lane.name }}</span>
{% for b in lane.bars %}<div class="op {{ b.cls }}" style="left: {{ b.left }}%; width: {{ b.width }}%"
 title="{{ b.title }}">{{ b.label }}</div>
{% endfor %}</div>
{% endfor %}</div></div>
{% if partial %}<h2>Longest partial linearization</h2>
<table><tr><th>#</th><th>process</th><th>operation</th><th>record</th><th>state after</th></tr>
{% for row in partial %}<tr><td>{{ row.n }}</td><td>{{ row.process }}</td><td>{{ row.op }}</td>
<td>{{ row.record }}</td><td>{{ row.state }}</td></tr>
{% endfor %}</table>{% endif %}
</body></html>
"""


def write_html(result: LinResult, path: Path | str) -> Path:
    """Write a standalone page (no external assets) for `result`: one lane per
    client, one bar per operation on a time axis, the partial linearization and
    the failing operation marked, model states on hover. Returns the path."""
    path = Path(path)
    model = result.model
    fail = result.failure
    ops: list[Any] = fail.ops if fail is not None else result.operations
    order: dict[int, int] = {}
    after: dict[int, Any] = {}
    if fail is not None:
        for k, op in enumerate(fail.partial):
            order[op.id] = k + 1
            after[op.id] = fail.states[k + 1]
    # the axis spans the operations shown (a failing partition's few dozen operations
    # would otherwise be slivers somewhere in a whole run's records)
    start = min((op.call for op in ops), default=0)
    end = max([op.ret if op.ret is not None else op.call for op in ops] + [start + 1])
    span = end - start
    lanes: dict[Any, list[dict[str, Any]]] = {}
    for op in ops:
        ret = op.ret if op.ret is not None else end
        cls = "info" if op.ret is None else ""
        text = model.describe_op(op.input, op.output)
        title = f"{text}\nprocess {op.process}, records {op.call}..{op.ret if op.ret is not None else '?'}"
        label = text
        if fail is not None and op is fail.op:
            cls = "failed"
            title += f"\ncannot be linearized; state before: {model.describe_state(fail.state)}"
        elif op.id in order:
            cls = "lin"
            label = f"{order[op.id]}: {text}"
            title += (f"\nlinearized #{order[op.id]}; state after: "
                      f"{model.describe_state(after[op.id])}")
        lanes.setdefault(op.process, []).append({
            "cls": cls, "left": f"{100 * (op.call - start) / span:.3f}",
            "width": f"{100 * max(ret - op.call, 0.5) / span:.3f}", "title": title,
            "label": label})
    lane_list = [{"name": f"process {p}", "bars": bars}
                 for p, bars in sorted(lanes.items(), key=lambda kv: str(kv[0]))]
    partial = []
    if fail is not None:
        partial = [{"n": k + 1, "process": op.process, "op": model.describe_op(op.input, op.output),
                    "record": op.index, "state": model.describe_state(fail.states[k + 1])}
                   for k, op in enumerate(fail.partial)]
    verdict = {True: "linearizable", False: "NOT linearizable"}.get(result.valid, "unknown")  # type: ignore[arg-type]
    import jinja2  # here, not at the top: every `distlab test` imports this module

    page = jinja2.Template(_TEMPLATE_TEXT, autoescape=True).render(
        title=f"Linearizability ({model.name})", valid=result.valid, verdict=verdict,
        text=explain_text(result), lanes=lane_list, partial=partial,
        width=max(800, min(20000, 6 * end)))
    path.write_text(page)
    return path
