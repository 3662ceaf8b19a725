"""A Raft run at a glance (raft.png): per node, when it led and for which term, and how
far it had applied its log, from the `raft {...}` trace lines its log holds
(distlab/checkers/raft_trace.py), with the run's faults as bands.

A leader's bar runs from its `leader` line until a later term's leader appears, the
node restarts, or the run ends: what the trace proves is when it took office, not when
it stepped down, and the legend says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from distlab.checkers.raft_trace import read_events

NS = 1e9


def raft_events(run_dir: Path) -> list[tuple[float, str, str, dict[str, Any]]]:
    """The run's Raft trace events (empty when its nodes write none)."""
    logs = run_dir / "node-logs"
    return read_events(logs) if logs.is_dir() else []


def leader_periods(events: list[tuple[float, str, str, dict[str, Any]]], end: float) -> list[tuple[str, int, float, float]]:
    """(node, term, from, to) for each leader's time in office, as far as the trace shows."""
    periods: list[tuple[str, int, float, float]] = []
    current: dict[str, tuple[int, float]] = {}
    for t, node, kind, data in events:
        if kind == "leader":
            term = int(data.get("term", 0))
            for other, (other_term, since) in list(current.items()):
                if other_term < term or other == node:
                    periods.append((other, other_term, since, t))
                    del current[other]
            current[node] = (term, t)
        elif kind == "started" and node in current:
            term, since = current.pop(node)
            periods.append((node, term, since, t))
    periods += [(node, term, since, end) for node, (term, since) in current.items()]
    return sorted(periods, key=lambda p: (p[2], p[0]))


def write_raft_plot(run_dir: Path, history: list[dict[str, Any]], out: Path) -> Path | None:
    """raft.png for a run whose nodes write a Raft trace (None, and no file, otherwise)."""
    events = raft_events(run_dir)
    if not any(kind in ("leader", "apply") for _, _, kind, _ in events):
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    end = max([events[-1][0]] + [(r.get("time") or 0) / NS for r in history])
    nodes = sorted({node for _, node, _, _ in events})
    lane = {n: i for i, n in enumerate(nodes)}
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 2 + 0.5 * len(nodes) + 2.5), sharex=True,
                                      gridspec_kw={"height_ratios": [max(1, len(nodes)), 3]})
    for start, stop in _fault_periods(history, end):
        for ax in (top, bottom):
            ax.axvspan(start, stop, color="#d33", alpha=0.08, lw=0)
    cmap = plt.get_cmap("tab10")
    for node, term, since, until in leader_periods(events, end):
        top.barh(lane[node], max(until - since, end / 500), left=since, height=0.6, color=cmap(term % 10))
        top.text(since, lane[node], f" {term}", va="center", fontsize=7)
    for t, node, kind, _ in events:
        if kind == "started":
            top.plot([t], [lane[node]], marker="|", color="black", ms=12)
    top.set_yticks(range(len(nodes)), nodes)
    top.set_title("leaders by term (bars: from taking office until a later term's leader or a restart; |: (re)start)",
                  fontsize=9)
    applied: dict[str, list[tuple[float, int]]] = {n: [] for n in nodes}
    for t, node, kind, data in events:
        if kind in ("apply", "restore"):
            applied[node].append((t, int(data.get("i", 0))))
    for node in nodes:
        if applied[node]:
            xs, ys = zip(*applied[node], strict=True)
            bottom.step(xs, ys, where="post", label=node, lw=1.2)
    bottom.set_ylabel("applied index")
    bottom.set_xlabel("seconds (simulated)" if _simulated(run_dir) else "seconds")
    bottom.legend(fontsize=7, loc="upper left", ncols=min(len(nodes), 5))
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def _simulated(run_dir: Path) -> bool:
    return (run_dir / "disks").is_dir()


def _fault_periods(history: list[dict[str, Any]], end: float) -> list[tuple[float, float]]:
    """(start, stop) seconds of every fault in the history (start-X .. stop-X)."""
    started: dict[str, float] = {}
    out = []
    for r in history:
        if r.get("process") == "nemesis" and r.get("type") == "invoke":
            kind, _, fault = str(r.get("f")).partition("-")
            if kind == "start":
                started.setdefault(fault, (r.get("time") or 0) / NS)
            elif kind == "stop" and fault in started:
                out.append((started.pop(fault), (r.get("time") or 0) / NS))
    return out + [(s, end) for s in started.values()]
