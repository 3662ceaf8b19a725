"""Raft safety from a run's node logs: what the tester checks, for a Raft running as a
real node (in the simulator or as processes) instead of inside the tester.

A Raft node writes one `raft {json}` line to its log (`node.log`) for each of:

    {"ev": "leader", "term": T, "last": L, "runs": [[index, term], ...]}
        it became leader of term T with entries up to L; `runs` is its log's terms,
        run-length encoded: each pair is the first index of a run of entries of one
        term, the first pair being its snapshot's index and term (0, 0 if none)
    {"ev": "apply", "i": I, "t": T, "h": "..."}
        it applied entry I of term T to its state machine; `h` identifies the command
    {"ev": "restore", "i": I, "t": T}
        it loaded a snapshot that ends at entry I of term T (at start-up, or sent by a
        leader), and continues applying after I

`check_logs(run_dir)` reads every node's log and checks, across crashes and restarts:

* election safety: one leader per term;
* log matching, by term: two leaders' logs that hold the same term at some index hold
  the same terms at every index before it;
* state machine safety: every node applies the same entry at each index, each index
  once per incarnation, in order with no gaps after its last restore;
* leader completeness: a new leader of term T holds (by term) every entry some node had
  applied strictly before it took office while no term >= T had a leader yet (so it was
  committed in an earlier term; a stale candidate may still win an older term after a
  newer one has committed entries it lacks). Simulated runs only: a real process's log
  lines are time-stamped when the harness reads them, too late to order events across
  nodes.

Several Raft groups in one run (a sharded store: a controller group and replica groups)
each check alone: a line may carry "g": the group's name, and lines are checked per group
(lines without it form one group; a node's "started" counts for every group, so one node
may even hold replicas of several groups).

`distlab/systems/kvraft/node.py` writes these lines; a KV on your own Raft can too.
`RaftTrace` is the same check as a run's checker (its `raft_safety` in results.json):
every run has it, and it has nothing to say about a run whose nodes write no trace.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from distlab.checkers.api import History, Params, Verdict

PREFIX = "raft "
_STAMPED = re.compile(r"^\s*(\d+\.\d+) (.*)$")
_STARTED = "[distlab] started"


def command_id(command: Any) -> str:
    """A short, stable identifier of a command (sorted-key JSON, hashed)."""
    data = orjson.dumps(command, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(data, digest_size=6).hexdigest()


def term_runs(first_index: int, first_term: int, terms: list[int]) -> list[list[int]]:
    """Run-length encode a log's terms: `terms[k]` is the term of entry first_index + 1 + k."""
    runs = [[first_index, first_term]]
    for k, term in enumerate(terms):
        if term != runs[-1][1]:
            runs.append([first_index + 1 + k, term])
    return runs


class Tracer:
    """The node side: writes the trace lines through a node's `log`."""

    def __init__(self, log: Callable[[str], None], group: str | None = None) -> None:
        self._log = log
        self._group = group  # names this Raft group when a run has several

    def _write(self, event: dict[str, Any]) -> None:
        if self._group is not None:
            event["g"] = self._group
        self._log(PREFIX + orjson.dumps(event).decode())

    def leader(self, term: int, last: int, runs: list[list[int]]) -> None:
        self._write({"ev": "leader", "term": term, "last": last, "runs": runs})

    def apply(self, index: int, term: int, command: Any) -> None:
        self._write({"ev": "apply", "i": index, "t": term, "h": command_id(command)})

    def restore(self, index: int, term: int) -> None:
        self._write({"ev": "restore", "i": index, "t": term})


@dataclass
class TraceReport:
    """What the logs showed, and every violation found (empty: safe)."""

    nodes: int = 0
    leaders: int = 0
    applied: int = 0
    restores: int = 0
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass(order=True)
class _Event:
    time: float
    seq: int
    node: str = field(compare=False)
    kind: str = field(compare=False)
    data: dict[str, Any] = field(compare=False)


def _read_events(log_dir: Path) -> tuple[list[_Event], list[str], int]:
    events: list[_Event] = []
    problems: list[str] = []
    paths = sorted(log_dir.glob("*.log"))
    seq = 0
    for path in paths:
        node = path.stem
        now = 0.0
        raw = path.read_bytes()
        if PREFIX.encode() + b"{" not in raw:
            continue  # most runs' nodes write no trace: skip their logs at memchr speed
        for lineno, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
            # The simulator stamps every line; a real process's own lines come as it
            # wrote them, after the harness's stamped "started" line: they take the
            # last stamp seen (their order within the file is what counts then).
            m = _STAMPED.match(line)
            if m is not None:
                now, text = float(m.group(1)), m.group(2)
            else:
                text = line
            seq += 1
            if text.startswith(_STARTED):
                events.append(_Event(now, seq, node, "started", {}))
            elif text.startswith(PREFIX):
                try:
                    data = orjson.loads(text[len(PREFIX):])
                    kind = data["ev"]
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    problems.append(f"{path.name}:{lineno}: malformed raft trace line")
                    continue
                events.append(_Event(now, seq, node, kind, data))
    events.sort()
    return events, problems, len(paths)


def read_events(log_dir: Path) -> list[tuple[float, str, str, dict[str, Any]]]:
    """Every trace event of a run's node logs in time order, as (time, node, kind, data);
    kind is "leader", "apply", "restore" or "started" (a node process (re)started). For
    pictures of a run (distlab/report); malformed lines are left to the checker to report."""
    return [(e.time, e.node, e.kind, e.data) for e in _read_events(log_dir)[0]]


def check_logs(run_dir: str | Path, ordered: bool = True) -> TraceReport:
    """Check the Raft trace in run_dir/node-logs; `ordered=False` skips leader completeness
    (for process-mode runs, whose time stamps cannot order events across nodes)."""
    log_dir = Path(run_dir) / "node-logs"
    events, problems, nodes = _read_events(log_dir)
    report = TraceReport(nodes=nodes, violations=problems)
    groups = sorted({str(ev.data["g"]) for ev in events if "g" in ev.data})
    if not groups:
        _check_group(events, ordered, report, report.violations.append)
        return report
    names = [None, *groups] if any(ev.kind != "started" and "g" not in ev.data for ev in events) else groups
    for name in names:
        own = [ev for ev in events
               if ev.kind == "started" or (str(ev.data["g"]) if "g" in ev.data else None) == name]
        label = f"group {name}: " if name is not None else "ungrouped lines: "
        _check_group(own, ordered, report, lambda v, label=label: report.violations.append(label + v))
    return report


def _check_group(events: list[_Event], ordered: bool, report: TraceReport,
                 bad: Callable[[str], None]) -> None:
    """The checks on one Raft group's events (in time order), counted into `report`."""
    leaders: dict[int, str] = {}
    committed: dict[int, tuple[int, str]] = {}  # index -> (term, command id)
    # index -> the highest term that had a leader when some node first applied it: the
    # term it was committed in is at most that (only leaders commit, and a leader's line
    # comes before anything it commits)
    commit_bound: dict[int, int] = {}
    commit_times: dict[int, float] = {}  # index -> first time some node applied it
    # index -> (term, node) of the first snapshot restored that ends there: a snapshot holds
    # only committed entries, so every node applying that index, later too, agrees on its term
    snapshot_ends: dict[int, tuple[int, str]] = {}
    leader_times = [(ev.time, ev.data["term"]) for ev in events if ev.kind == "leader"]
    leader_max: list[int] = list(itertools.accumulate((t for _, t in leader_times), max))
    stamps = [t for t, _ in leader_times]
    applied_at: dict[str, int | None] = {}  # node -> last applied index (None: unknown)
    leader_logs: list[_Event] = []
    for ev in events:
        d = ev.data
        if ev.kind == "started":
            applied_at[ev.node] = None  # until it restores a snapshot or applies entry 1
        elif ev.kind == "restore":
            report.restores += 1
            applied_at[ev.node] = d["i"]
            if d["i"] in committed and committed[d["i"]][0] != d["t"]:
                bad(f"state machine safety: {ev.node} restored a snapshot ending at {d['i']} of "
                    f"term {d['t']}, but entry {d['i']} was committed in term {committed[d['i']][0]}")
            elif d["i"] > 0:
                snap = snapshot_ends.setdefault(d["i"], (d["t"], ev.node))
                if snap[0] != d["t"]:
                    bad(f"state machine safety: {ev.node} restored a snapshot ending at {d['i']} of "
                        f"term {d['t']}, but {snap[1]}'s snapshot ended at {d['i']} of term {snap[0]}")
        elif ev.kind == "apply":
            report.applied += 1
            index, term, cid = d["i"], d["t"], d["h"]
            last = applied_at.get(ev.node)
            if last is not None and index != last + 1:
                bad(f"{ev.node} applied entry {index} after {last} at {ev.time:.6f} "
                    f"(out of order, twice, or with a gap)")
            elif last is None and index != 1:
                bad(f"{ev.node} applied entry {index} first after a start, with no snapshot "
                    f"restored at {ev.time:.6f}")
            applied_at[ev.node] = index
            known = committed.setdefault(index, (term, cid))
            if index not in commit_times:
                commit_times[index] = ev.time
                k = bisect.bisect_right(stamps, ev.time)  # leaders up to this instant, inclusive
                commit_bound[index] = leader_max[k - 1] if k else 0
            if known != (term, cid):
                bad(f"state machine safety: {ev.node} applied {(term, cid)} at index {index} "
                    f"at {ev.time:.6f}; another node applied {known}")
            elif index in snapshot_ends and snapshot_ends[index][0] != term:
                bad(f"state machine safety: {ev.node} applied entry {index} of term {term} at "
                    f"{ev.time:.6f}, but {snapshot_ends[index][1]} had restored a snapshot ending at "
                    f"{index} of term {snapshot_ends[index][0]}")
        elif ev.kind == "leader":
            report.leaders += 1
            term = d["term"]
            other = leaders.setdefault(term, ev.node)
            if other != ev.node:
                bad(f"election safety: {other} and {ev.node} both led term {term}")
            for earlier in leader_logs:
                _check_log_matching(earlier, ev, bad)
            leader_logs.append(ev)
            if ordered:
                _check_completeness(ev, committed, commit_times, commit_bound, bad)


@dataclass
class RaftTrace:
    """Raft's safety properties from a run directory's node logs (`params["run_dir"]`);
    leader completeness only for simulated runs (`params["mode"]`). Not applicable
    (valid None) without a run directory or without trace lines."""

    def check(self, history: History, params: Params) -> Verdict:
        run_dir = params.get("run_dir")
        if run_dir is None or not (Path(run_dir) / "node-logs").is_dir():
            return Verdict(None)
        raft = check_logs(run_dir, ordered=params.get("mode", "sim") == "sim")
        if not (raft.leaders or raft.applied or raft.restores or raft.violations):
            return Verdict(None)
        figures = {"elections": raft.leaders, "applied": raft.applied, "restores": raft.restores}
        return Verdict(raft.ok, anomalies={"violations": raft.violations[:10]}, figures=figures)


def _term_at(runs: list[list[int]], starts: list[int], i: int) -> int:
    return runs[bisect.bisect_right(starts, i) - 1][1]


def _check_log_matching(a: _Event, b: _Event, bad: Callable[[str], None]) -> None:
    """Two leaders' logs (by term) that agree at some index agree at every index before
    it: both logs' terms are step functions, so comparing each step is enough."""
    runs_a, runs_b = a.data["runs"], b.data["runs"]
    if not runs_a or not runs_b:
        return
    starts_a, starts_b = [r[0] for r in runs_a], [r[0] for r in runs_b]
    lo = max(starts_a[0], starts_b[0])  # below a snapshot's index the terms are unknown
    hi = min(a.data["last"], b.data["last"])
    if hi < lo:
        return
    steps = sorted({lo, *(x for x in starts_a + starts_b if lo < x <= hi)})
    agree = [_term_at(runs_a, starts_a, x) == _term_at(runs_b, starts_b, x) for x in steps]
    if True not in agree:
        return
    top = len(agree) - 1 - agree[::-1].index(True)
    for k in range(top):
        if not agree[k]:
            end = steps[top + 1] - 1 if top + 1 < len(steps) else hi
            bad(f"log matching: the logs of {a.node} (leader of term {a.data['term']}) and "
                f"{b.node} (leader of term {b.data['term']}) agree at index {end} but differ "
                f"at index {steps[k]}")
            return


def _check_completeness(ev: _Event, committed: dict[int, tuple[int, str]],
                        commit_times: dict[int, float], commit_bound: dict[int, int],
                        bad: Callable[[str], None]) -> None:
    runs = ev.data["runs"]
    if not runs:
        return
    starts = [r[0] for r in runs]
    first = runs[0][0]
    for index, (term, _) in committed.items():
        if index <= first or commit_times[index] >= ev.time or commit_bound[index] >= ev.data["term"]:
            continue  # under its snapshot, or not known to be committed in an earlier term
        k = bisect.bisect_right(starts, index) - 1
        has = runs[k][1] if index <= ev.data["last"] else None
        if has != term:
            bad(f"leader completeness: {ev.node}, leader of term {ev.data['term']} at "
                f"{ev.time:.6f}, has term {has} at index {index}, committed earlier in term {term}")
            return
