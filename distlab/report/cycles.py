"""Transaction anomalies drawn as Elle draws them: each cycle's transactions on a circle,
joined by arrows labelled with the dependency (ww, wr, rw, realtime, process) and its key.

Input is the txn checker's anomaly dicts (`cycle`: the transactions, `steps`: one edge
each, with `from`, `to`, `type`, `key` and `text`); output is a self-contained SVG
string, so report.html shows it from file:// with nothing to load. The sentence of each
step is the edge's tooltip and is listed under the picture, so the drawing never hides
what the checker said.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

EDGE_COLOURS = {"ww": "#1f6fb5", "wr": "#2e8b3e", "rw": "#c0392b", "realtime": "#8e44ad", "process": "#d4840a"}
RADIUS = 110
NODE_R = 24
MAX_CYCLES = 8
"""Cycles drawn per anomaly type; the rest are counted, as results.json holds them all."""


def _edge_kind(step: dict[str, Any]) -> str:
    kind = str(step.get("type") or "?")
    return kind.split("+")[0] if kind.split("+")[0] in EDGE_COLOURS else kind


def cycle_svg(anomaly: dict[str, Any]) -> str:
    """One anomaly's cycle as an SVG drawing (empty string if it has no steps)."""
    steps = [s for s in anomaly.get("steps") or [] if isinstance(s, dict) and "from" in s and "to" in s]
    if not steps:
        return ""
    names: list[str] = []
    for step in steps:
        for end in (step["from"], step["to"]):
            if end not in names:
                names.append(str(end))
    values = {str(t.get("name")): t.get("value") for t in anomaly.get("cycle") or [] if isinstance(t, dict)}
    size = 2 * (RADIUS + NODE_R + 40)
    centre = size / 2
    pos = {name: (centre + RADIUS * math.sin(2 * math.pi * i / len(names)),
                  centre - RADIUS * math.cos(2 * math.pi * i / len(names))) for i, name in enumerate(names)}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="cycle" width="{size:.0f}" height="{size:.0f}" '
             f'viewBox="0 0 {size:.0f} {size:.0f}" data-type="{escape(str(anomaly.get("type", "")))}">',
             "<defs>" + "".join(
                 f'<marker id="arrow-{k}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
                 f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>'
                 for k, c in EDGE_COLOURS.items()) + "</defs>"]
    for i, step in enumerate(steps):
        (x1, y1), (x2, y2) = pos[str(step["from"])], pos[str(step["to"])]
        kind = _edge_kind(step)
        colour = EDGE_COLOURS.get(kind, "#555")
        # bend each edge a little so that a pair of opposite edges stays two arrows
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy) or 1.0
        cx, cy = mx - dy / length * 22, my + dx / length * 22
        lx, ly = (mx + cx) / 2, (my + cy) / 2  # the label on the curve at its apex, with a white halo
        sx, sy = _towards(x1, y1, cx, cy, NODE_R)
        ex, ey = _towards(x2, y2, cx, cy, NODE_R + 2)
        label = f"{step.get('type', '?')}" + (f" {step['key']}" if step.get("key") is not None else "")
        marker = f' marker-end="url(#arrow-{kind})"' if kind in EDGE_COLOURS else ""
        parts.append(
            f'<g class="edge" data-kind="{escape(str(step.get("type", "?")))}" data-index="{i}">'
            f"<title>{escape(str(step.get('text', label)))}</title>"
            f'<path d="M{sx:.1f},{sy:.1f} Q{cx:.1f},{cy:.1f} {ex:.1f},{ey:.1f}" fill="none" stroke="{colour}" '
            f'stroke-width="2"{marker}/>'
            f'<text x="{lx:.1f}" y="{ly + 4:.1f}" font-size="11" text-anchor="middle" fill="{colour}" '
            f'stroke="#fff" stroke-width="3" paint-order="stroke">{escape(label)}</text>'
            "</g>")
    for name, (x, y) in pos.items():
        tip = f"{name}: {values[name]}" if name in values else name
        parts.append(f'<g class="txn"><title>{escape(str(tip))}</title>'
                     f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{NODE_R}" fill="#fff" stroke="#333" stroke-width="1.5"/>'
                     f'<text x="{x:.1f}" y="{y + 4:.1f}" font-size="12" text-anchor="middle">{escape(name)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _towards(x: float, y: float, tx: float, ty: float, by: float) -> tuple[float, float]:
    """The point `by` away from (x, y) in the direction of (tx, ty): an arrow starts and
    ends on a circle's edge, not its centre."""
    dx, dy = tx - x, ty - y
    d = math.hypot(dx, dy) or 1.0
    return x + dx / d * by, y + dy / d * by


def cycles_html(verdict: dict[str, Any]) -> str:
    """Every anomaly type's cycles (up to MAX_CYCLES each) as HTML: a heading per type,
    each cycle's drawing beside the checker's sentences for its steps."""
    anomalies = verdict.get("anomalies") if isinstance(verdict, dict) else None
    if not isinstance(anomalies, dict):
        return ""
    out: list[str] = []
    for kind, cases in anomalies.items():
        drawn = [(c, svg) for c in (cases if isinstance(cases, list) else []) if isinstance(c, dict)
                 if (svg := cycle_svg(c))]
        if not drawn:
            continue
        out.append(f'<section class="anomaly" data-type="{escape(kind)}"><h3>{escape(kind)}: '
                   f"{len(drawn)} cycle{'s' if len(drawn) != 1 else ''}</h3>")
        for case, svg in drawn[:MAX_CYCLES]:
            steps = "".join(f"<li>{escape(str(s.get('text', '')))}</li>" for s in case.get("steps") or [])
            out.append(f'<div class="cycle-case">{svg}<ol>{steps}</ol></div>')
        if len(drawn) > MAX_CYCLES:
            out.append(f"<p>... and {len(drawn) - MAX_CYCLES} more {escape(kind)} cycles in results.json</p>")
        out.append("</section>")
    return "".join(out)
