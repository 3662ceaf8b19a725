"""A run's plots as PNG files (matplotlib, Agg): Maelstrom's latency-raw, latency-quantiles
and rate, with the nemesis periods as bands, and broadcast's stable latencies.

Figures are built with matplotlib's object API (no pyplot state), so a report can be
drawn from any thread or test. Latencies are simulated time in a simulated run: a
client request reaches its node at once, so a handler that answers without waiting
shows 0 ms; the y axes switch from log to symlog when zeros are present rather than
hide those operations.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from distlab.checkers.pairing import calls
from distlab.report.rundir import RunDir, nemesis_periods

PLOTS = ("latency-raw.png", "latency-quantiles.png", "rate.png")
STABLE = "stable-latency.png"
QUANTILES = (0.5, 0.95, 0.99, 1.0)
OUTCOMES = ("ok", "fail", "info")
_MARKERS = {"ok": "o", "fail": "x", "info": "^"}
_OUTCOME_STYLE = {"ok": "-", "fail": "--", "info": ":"}
_F_STYLES = ("-", "--", ":", "-.")
_Q_COLORS = {0.5: "#2b6cb0", 0.95: "#2f855a", 0.99: "#dd6b20", 1.0: "#c53030"}
_BAND_COLORS = {"partition": "#e53e3e", "kill": "#dd6b20", "pause": "#d69e2e", "clock": "#3182ce", "loss": "#805ad5"}
_F_COLORS = ("#2b6cb0", "#2f855a", "#c53030", "#805ad5", "#dd6b20", "#319795", "#b83280", "#718096")


def operations(history: list[dict[str, Any]]) -> list[tuple[float, float, str, str]]:
    """Each completed client operation: (invoked at s, latency ms, f, outcome)."""
    ops = []
    for _, inv, _, done in calls(history):
        if done is None:
            continue
        start, end = inv.get("time"), done.get("time")
        if not isinstance(start, int | float) or not isinstance(end, int | float):
            continue
        outcome = str(done.get("type"))
        ops.append((start / 1e9, max(0.0, (end - start) / 1e6), str(inv.get("f")), outcome))
    return ops


def _figure(title: str, ylabel: str) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    # fixed margins, the legend in the right one: a layout engine costs more than the drawing
    fig = Figure(figsize=(10, 4.2), dpi=100)
    fig.subplots_adjust(left=0.075, right=0.86, top=0.92, bottom=0.12)
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3, linewidth=0.6)
    return fig, ax


def _bands(ax: Any, periods: list[dict[str, Any]]) -> list[Any]:
    """Shade the fault periods; one legend entry per fault kind."""
    from matplotlib.patches import Patch

    seen: dict[str, Any] = {}
    for p in periods:
        color = _BAND_COLORS.get(p["kind"], "#718096")
        ax.axvspan(p["start"], p["stop"], color=color, alpha=0.12, linewidth=0)
        seen.setdefault(p["kind"], Patch(color=color, alpha=0.25, label=p["kind"]))
    return list(seen.values())


def _latency_scale(ax: Any, values: Iterable[float]) -> None:
    values = list(values)
    if not values:
        return
    if max(values) == 0:  # all answered at once: say so rather than draw an axis around zero
        ax.set_ylim(-0.05, 1)
        ax.text(0.5, 0.55, "every operation here took 0 ms of simulated time (answered without waiting)",
                transform=ax.transAxes, ha="center", color="#616e7c")
    elif min(values) > 0:
        ax.set_yscale("log")
    elif max(values) > 0:
        positive = [v for v in values if v > 0]
        ax.set_yscale("symlog", linthresh=max(min(positive), 1e-3))


def _window(duration: float, ops: int) -> float:
    """A round window length giving up to 60 windows over the run, with about ten
    operations or more in each (fewer make every quantile the same one value)."""
    points = max(1, min(60, ops // 10))
    raw = max(duration / points, 1e-3)
    scale = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 5, 10):
        if raw <= step * scale:
            return step * scale
    return 10 * scale


def _f_colors(fs: list[str]) -> dict[str, str]:
    return {f: _F_COLORS[i % len(_F_COLORS)] for i, f in enumerate(fs)}


def latency_raw(ops: list[tuple[float, float, str, str]], periods: list[dict[str, Any]], end: float,
                out: Path, title: str) -> Path:
    """Every operation: when it began, how long it took; colour by function, mark by outcome."""
    from matplotlib.lines import Line2D

    fig, ax = _figure(f"{title}: latency of each operation", "latency (ms)")
    handles = _bands(ax, periods)
    fs = sorted({op[2] for op in ops})
    colors = _f_colors(fs)
    groups: dict[tuple[str, str], tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for start, latency, f, outcome in ops:
        xs, ys = groups[(f, outcome)]
        xs.append(start)
        ys.append(latency)
    for (f, outcome), (xs, ys) in sorted(groups.items()):
        ax.plot(xs, ys, linestyle="none", marker=_MARKERS.get(outcome, "s"), markersize=2.5 if outcome == "ok" else 4,
                color=colors[f], alpha=0.6 if outcome == "ok" else 0.9, rasterized=True)
    _latency_scale(ax, (op[1] for op in ops))
    handles += [Line2D([], [], color=colors[f], marker="o", linestyle="none", label=f) for f in fs]
    handles += [Line2D([], [], color="#52606d", marker=_MARKERS[o], linestyle="none", label=o)
                for o in OUTCOMES if any(op[3] == o for op in ops)]
    if handles:
        ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if not ops:
        ax.text(0.5, 0.5, "no completed operations", transform=ax.transAxes, ha="center", color="#616e7c")
    ax.set_xlim(0, max(end, 1e-3))
    fig.savefig(out)
    return out


def latency_quantiles(ops: list[tuple[float, float, str, str]], periods: list[dict[str, Any]], end: float,
                      out: Path, title: str) -> Path:
    """Quantiles of successful operations' latency per time window, per function."""
    import numpy as np
    from matplotlib.lines import Line2D

    window = _window(end, len(ops))
    fig, ax = _figure(f"{title}: latency quantiles of ok operations per {window:g} s", "latency (ms)")
    handles = _bands(ax, periods)
    fs = sorted({op[2] for op in ops if op[3] == "ok"})
    plotted: list[float] = []
    for k, f in enumerate(fs):
        starts = np.array([op[0] for op in ops if op[2] == f and op[3] == "ok"])
        lats = np.array([op[1] for op in ops if op[2] == f and op[3] == "ok"])
        slots = np.floor(starts / window).astype(np.int64)
        order = np.argsort(slots, kind="stable")
        slots, lats = slots[order], lats[order]
        bounds = np.flatnonzero(np.diff(slots)) + 1
        xs = (slots[np.r_[0, bounds]] + 0.5) * window
        per_q: dict[float, list[float]] = {q: [] for q in QUANTILES}
        for chunk in np.split(lats, bounds):
            qs = np.quantile(chunk, QUANTILES)
            for q, value in zip(QUANTILES, qs, strict=True):
                per_q[q].append(float(value))
        for q in QUANTILES:
            ax.plot(xs, per_q[q], color=_Q_COLORS[q], linestyle=_F_STYLES[k % len(_F_STYLES)], linewidth=1.2,
                    marker="." if len(xs) < 3 else None)
            plotted += per_q[q]
    _latency_scale(ax, plotted)
    handles += [Line2D([], [], color=_Q_COLORS[q], label="max" if q == 1.0 else f"p{q * 100:g}") for q in QUANTILES]
    if len(fs) > 1:
        handles += [Line2D([], [], color="#52606d", linestyle=_F_STYLES[k % len(_F_STYLES)], label=f)
                    for k, f in enumerate(fs)]
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if not fs:
        ax.text(0.5, 0.5, "no successful operations", transform=ax.transAxes, ha="center", color="#616e7c")
    ax.set_xlim(0, max(end, window))
    fig.savefig(out)
    return out


def rate(ops: list[tuple[float, float, str, str]], periods: list[dict[str, Any]], end: float,
         out: Path, title: str) -> Path:
    """Operations per second, per function and outcome, per time window."""
    import numpy as np
    from matplotlib.lines import Line2D

    window = _window(end, len(ops))
    fig, ax = _figure(f"{title}: throughput per {window:g} s", "operations / s")
    handles = _bands(ax, periods)
    fs = sorted({op[2] for op in ops})
    colors = _f_colors(fs)
    n = max(1, math.ceil(max(end, window) / window))
    xs = (np.arange(n) + 0.5) * window
    outcomes_seen = set()
    for f in fs:
        for outcome in OUTCOMES:
            starts = np.array([op[0] for op in ops if op[2] == f and op[3] == outcome])
            if not len(starts):
                continue
            outcomes_seen.add(outcome)
            counts = np.bincount(np.minimum((starts / window).astype(np.int64), n - 1), minlength=n)
            ax.plot(xs, counts / window, color=colors[f], linestyle=_OUTCOME_STYLE[outcome], linewidth=1.2)
    handles += [Line2D([], [], color=colors[f], label=f) for f in fs]
    handles += [Line2D([], [], color="#52606d", linestyle=_OUTCOME_STYLE[o], label=o) for o in OUTCOMES if o in outcomes_seen]
    if handles:
        ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_xlim(0, max(end, window))
    ax.set_ylim(bottom=0)
    fig.savefig(out)
    return out


def stable_latency(quantiles: dict[str, Any], out: Path, title: str) -> Path | None:
    """Broadcast: how long until a value was in every read, at each quantile results.json
    keeps (it keeps the quantiles, not each value's latency)."""
    points = sorted((float(q), float(v)) for q, v in quantiles.items()
                    if _number(q) and isinstance(v, int | float) and not isinstance(v, bool))
    if not points:
        return None
    fig, ax = _figure(f"{title}: stable latency (until every read shows a value)", "")
    ax.set_xlabel("stable latency (ms)")
    names = {0.0: "min", 1.0: "max"}
    labels = [names.get(q, f"p{q * 100:g}") for q, _ in points]
    values = [v for _, v in points]
    ax.barh(range(len(points)), values, color="#2b6cb0", height=0.6)
    ax.set_yticks(range(len(points)), labels)
    ax.invert_yaxis()
    top = max(values) or 1.0
    for i, v in enumerate(values):
        ax.text(v + top * 0.01, i, f"{v:,.0f} ms", va="center", fontsize=9)
    ax.set_xlim(0, top * 1.15)
    fig.savefig(out)
    return out


def _number(text: Any) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def write_plots(run: RunDir, step: Callable[[str], None] | None = None) -> list[Path]:
    """Write the run's PNGs into its directory; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    ops = operations(run.history)
    end = max([rec.get("time", 0) for rec in run.history if isinstance(rec.get("time"), int | float)] + [0]) / 1e9
    periods = nemesis_periods(run.history, end)
    title = str(run.config.get("workload", "run"))
    written = []
    for name, draw in (("latency-raw.png", lambda p: latency_raw(ops, periods, end, p, title)),
                       ("latency-quantiles.png", lambda p: latency_quantiles(ops, periods, end, p, title)),
                       ("rate.png", lambda p: rate(ops, periods, end, p, title))):
        if step:
            step(f"plotting {name}")
        written.append(draw(run.path / name))
    workload = run.results.get("workload")
    stable = workload.get("stable_latencies") if isinstance(workload, dict) else None
    if isinstance(stable, dict):
        path = stable_latency(stable, run.path / STABLE, title)
        if path is not None:
            written.append(path)
    from distlab.report.raft_plot import write_raft_plot

    raft = write_raft_plot(run.path, run.history, run.path / "raft.png")  # runs whose nodes trace Raft
    if raft is not None:
        written.append(raft)
    return written
