"""report.html: one page per run with its verdicts, plots, diagram, node errors and config.

Every link is relative to the run directory (plots, messages.html, node logs), so the
page works from file:// and keeps working when the directory is copied elsewhere.
Summary rows carry information only: figures that are zero or empty are left out,
while explanations and anomaly lists, which decide a verdict, are shown whole (a list
longer than LIST_LIMIT says how many more results.json holds).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
import orjson

from distlab.report.figures import informative, quantiles
from distlab.report.rundir import RunDir

LIST_LIMIT = 60
_ASSETS = Path(__file__).with_name("assets")
_GENERAL_SKIP = {"valid", "seed", "mode", "sim_seconds", "wall_seconds", "trace_hash", "node_errors", "error",
                 "warnings", "disks"}
SIM_LATENCY_NOTE = ("Latencies are simulated time: a client's request reaches its node at once, so a node "
                    "that answers without waiting for another node or a service shows 0 ms.")


def verdict(valid: Any) -> tuple[str, str]:
    """(css class, text) for a checker's `valid`."""
    if valid is True:
        return "valid", "valid"
    if valid is False:
        return "invalid", "INVALID"
    if valid is None:
        return "unknown", "not checked"
    return "unknown", str(valid)


def _number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


def _quantiles(doc: dict[str, Any]) -> str | None:
    """A dict of quantiles ("0.5": v) as "p50 v · p95 v · max v"; None for any other dict."""
    pairs = quantiles(doc)
    return None if pairs is None else " · ".join(f"{name} {_number(v)}" for name, v in pairs)


def _nested(doc: dict[str, Any]) -> str | None:
    """A dict of flat dicts (stats' by_f) as "cas: count 46, ok 7 · read: ...", leaving
    out what says nothing (zeros, valid true); None for any other dict."""
    if not doc or not all(isinstance(v, dict) for v in doc.values()):
        return None
    parts = []
    for key, inner in doc.items():
        if any(isinstance(v, dict | list) for v in inner.values()):
            return None
        shown = ", ".join(f"{k} {_number(v)}" for k, v in inner.items() if informative(v) and not (k == "valid" and v is True))
        parts.append(f"{key}: {shown}" if shown else str(key))
    return " · ".join(parts)


def cell(value: Any) -> str:
    """One summary value as text (lists whole up to LIST_LIMIT items)."""
    if isinstance(value, dict):
        return _quantiles(value) or _nested(value) or orjson.dumps(value).decode()
    if isinstance(value, list):
        shown = ", ".join(orjson.dumps(v).decode() if isinstance(v, dict | list) else _number(v)
                          for v in value[:LIST_LIMIT])
        more = len(value) - LIST_LIMIT
        return shown + (f" … and {more:,} more (all in results.json)" if more > 0 else "")
    return _number(value)


def rows(doc: dict[str, Any], skip: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    return [(key, cell(value)) for key, value in doc.items()
            if key not in skip and key not in ("valid", "explanation") and informative(value)]


def context(run: RunDir, plots: list[str], diagram: str | None, views: dict[str, str] | None = None) -> dict[str, Any]:
    """Everything report.html shows (`views`: build.write_views' pages and fragments)."""
    views = views or {}
    res, cfg = run.results, run.config
    checkers = []
    for name, part in res.items():
        if isinstance(part, dict) and "valid" in part:
            cls, text = verdict(part.get("valid"))
            explanation = part.get("explanation")
            checkers.append((name, {"verdict_class": cls, "verdict_text": text, "rows": rows(part),
                                    "explanation": explanation if isinstance(explanation, str) else None}))
    general: list[tuple[str, str]] = []
    for key, value in res.items():
        if key in _GENERAL_SKIP or (isinstance(value, dict) and "valid" in value) or not informative(value):
            continue
        if isinstance(value, dict) and _quantiles(value) is None:
            general += [(f"{key} {k}", cell(v)) for k, v in value.items() if informative(v)]
        else:
            general.append((key, cell(value)))
    cls, text = verdict(res.get("valid"))
    node_errors = [{"node": e.get("node", "?"), "text": e.get("message") or e.get("text") or orjson.dumps(e).decode()}
                   for e in res.get("node_errors") or [] if isinstance(e, dict)]
    mode = str(res.get("mode") or cfg.get("mode") or "")
    where = run.path.resolve()  # store/latest moves on: name the run itself
    return {
        "title": f"{cfg.get('workload', 'run')} · seed {res.get('seed', cfg.get('seed'))} · {text} — {where.name}",
        "workload": cfg.get("workload", "run"),
        "verdict_class": cls,
        "verdict_text": text,
        "run_dir": str(where),
        "seed": res.get("seed", cfg.get("seed")),
        "mode": mode,
        "sim_seconds": res.get("sim_seconds") if isinstance(res.get("sim_seconds"), int | float) else None,
        "wall_seconds": res.get("wall_seconds") if isinstance(res.get("wall_seconds"), int | float) else None,
        "checkers": checkers,
        "general": general,
        "latency_note": SIM_LATENCY_NOTE if mode == "sim" else None,
        "error": res.get("error") if isinstance(res.get("error"), str) else None,
        "plots": plots,
        "diagram": diagram,
        "diagram_note": "time runs downwards; wheel scrolls, ctrl + wheel zooms; click an arrow for its body and causal chain",
        "node_errors": node_errors,
        "logs": [{"name": p.name, "href": f"node-logs/{p.name}"} for p in run.node_logs],
        "replay": f"distlab replay {shlex.quote(str(where))}",
        "config": [(k, cell(v)) for k, v in cfg.items()],
        "timeline": views.get("timeline"),
        "linearizability": views.get("linearizability"),
        "cycles": markupsafe.Markup(views["cycles"]) if views.get("cycles") else None,  # escaped by cycles.py
    }


def write_page(run: RunDir, plots: list[Path], diagram: Path | None, views: dict[str, str] | None = None) -> Path:
    """Write the run's report.html; `plots` and `diagram` are files in the run directory."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_ASSETS)), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    page = env.get_template("report.html.j2").render(
        **context(run, [p.name for p in plots], diagram.name if diagram is not None else None, views))
    target = run.path / "report.html"
    target.write_text(page, encoding="utf-8")
    return target
