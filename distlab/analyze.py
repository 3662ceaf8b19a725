"""`distlab analyze`: check saved histories (distlab's or Jepsen's) without re-running anything.

One line per file (verdict, check time, operations, the first finding), then a
summary; `--json` prints the same as one JSON document. Exit status: 0 all
valid, 1 any invalid, 2 any unknown or unreadable (a history with no client
invocation is unreadable: there is nothing to check, so "valid" would mislead).

A run directory (or a history with the run's config.json beside it) says which
workload made it; its checker is the default, and asking for another one is
allowed but warned about, as a verdict under the wrong model is meaningless.

This module is the checking; distlab/cli/analyze.py holds the command's options. Input
that cannot be checked at all raises `AnalyzeError`, which the command reports as
`error: <message>` and exit status 2.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape

from distlab.history import INVOKE, NEMESIS, HistoryError, read_history

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class AnalyzeError(Exception):
    """Nothing can be checked as asked (not a run directory, unknown model or workload)."""


@dataclass
class FileVerdict:
    path: str
    valid: Any  # True, False, "unknown", or None when the file could not be checked
    seconds: float = 0.0
    ops: int = 0
    summary: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "valid": "error" if self.valid is None else self.valid,
            "seconds": round(self.seconds, 6),
            "ops": self.ops,
            "summary": self.summary,
            **({"details": self.details} if self.details else {}),
        }


def client_ops(history: list[dict[str, Any]]) -> int:
    """Operations = client invocations (nemesis records are not operations)."""
    return sum(1 for rec in history if rec.get("type") == "invoke" and rec.get("process") != "nemesis")


Checker = Callable[[list[dict[str, Any]], Path], FileVerdict]


def nothing_to_check(history: list[dict[str, Any]], path: Path) -> str | None:
    """Why `history` holds no operation to check (one line naming the file), or None.

    Every checker would call such a history valid, which hides a truncated or
    wrong file; completions without invocations cannot be paired into calls.
    """
    client = [rec for rec in history if rec.get("process") != NEMESIS]
    if any(rec.get("type") == INVOKE for rec in client):
        return None
    if not history:
        return f"{path}: empty history, nothing to check"
    if not client:
        return f"{path}: no client operations, only {len(history)} nemesis record(s)"
    return (f"{path}: {len(client)} completion(s) and no invocation: "
            "not a history of calls (a truncated file?)")


MODEL_NAMES = ("register", "cas-register", "cas-register-knossos", "kv", "set", "fifo-queue",
               "keyed-cas-register")


@dataclass
class Target:
    """A file or run directory named on the command line."""

    name: str  # as given
    history: Path
    workload: str | None  # the run's workload (config.json in or beside it), None if unknown
    config: dict[str, Any] | None = None  # the run's config.json, when there is one


def find_target(item: str) -> Target:
    """The history of `item` and the workload of the run it belongs to; a directory
    without a readable config.json raises AnalyzeError."""
    path = Path(item)
    is_dir = path.is_dir()
    config = (path if is_dir else path.parent) / "config.json"
    workload = None
    doc: Any = None
    try:
        doc = orjson.loads(config.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        if is_dir:
            raise AnalyzeError(f"{item} is not a run directory: {exc}") from exc
    else:
        workload = doc.get("workload") if isinstance(doc, dict) else None
        if not isinstance(workload, str):
            if is_dir:
                raise AnalyzeError(f"{item} is not a run directory: {config} names no workload")
            workload = None
    return Target(item, path / "history.jsonl" if is_dir else path, workload,
                  doc if isinstance(doc, dict) and workload is not None else None)


def run_options(config: dict[str, Any]) -> Any:
    """A run's TestOptions again, from its config.json (fields it lacks keep their
    defaults, fields TestOptions no longer has are ignored)."""
    import dataclasses

    from distlab.options import TestOptions

    names = {f.name for f in dataclasses.fields(TestOptions)}
    kept = {k: v for k, v in config.items() if k in names}
    kept.setdefault("workload", "")
    kept.setdefault("bin", "")
    return TestOptions(**kept)


def own_checker(target: Target) -> Any:
    """The checker the run's own workload judged it by, rebuilt from its config.json
    (None for a history of no known workload)."""
    import random

    from distlab.options import RunError
    from distlab.workloads.base import load_workload

    if target.workload is None:
        return None
    try:
        cls = load_workload(target.workload)
        params = cls.params_from(run_options(target.config)) if target.config is not None else cls.Params()
    except (ValueError, TypeError, RunError):
        return None
    return cls(params, random.Random(0)).checker()


def own_lin_model(target: Target) -> str | None:
    """The model `analyze linearizable` uses for a run whose workload checks linearizability."""
    from distlab.checkers.linearizable import Linearizable

    checker = own_checker(target)
    return checker.model if isinstance(checker, Linearizable) else None


def own_txn_check(target: Target) -> dict[str, Any]:
    """The txn checker's options (workload, consistency_models) a txn run was checked with."""
    from distlab.checkers import txn
    from distlab.checkers.api import FunctionChecker

    checker = own_checker(target)
    return checker.options if isinstance(checker, FunctionChecker) and checker.fn is txn.check else {}


def warn_other_checker(target: Target, option: str, chosen: str, its: str | None) -> None:
    """One line on stderr when a run is checked otherwise than its workload checks it."""
    if target.workload is None or its == chosen:
        return
    if its is None:
        text = f"{target.name} is a {target.workload} run, which this checker does not check"
    else:
        text = f"{target.name} is a {target.workload} run, checked with {option} {its}"
    err.print(f"[yellow]warning:[/] {escape(text)}; checking it with {option} {chosen}")


def run_files(files: tuple[str, ...], checker: Checker, as_json: bool) -> int:
    """Check each file in turn, print per-file lines and a summary; the worst status
    (0 all valid, 1 any invalid, 2 any unknown or unreadable)."""
    verdicts: list[FileVerdict] = []
    for name in files:
        path = Path(name)
        try:
            history = read_history(path)
        except (HistoryError, OSError) as exc:
            verdict = FileVerdict(name, None, summary=str(exc))
        else:
            nothing = nothing_to_check(history, path)
            if nothing:
                verdict = FileVerdict(name, None, summary=nothing)
            else:
                verdict = checker(history, path)
                verdict.path = name
        verdicts.append(verdict)
        if not as_json:
            _print_line(verdict)
    counts = {
        "valid": sum(v.valid is True for v in verdicts),
        "invalid": sum(v.valid is False for v in verdicts),
        "unknown": sum(v.valid == "unknown" for v in verdicts),
        "error": sum(v.valid is None for v in verdicts),
    }
    total = sum(v.seconds for v in verdicts)
    if as_json:
        doc = {"files": [v.to_json() for v in verdicts], "summary": {**counts, "seconds": round(total, 6)}}
        sys.stdout.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        out.print(
            f"{len(verdicts)} file(s): {counts['valid']} valid, {counts['invalid']} invalid, "
            f"{counts['unknown']} unknown, {counts['error']} unreadable; {total:.3f} s of checking"
        )
    return 1 if counts["invalid"] else 2 if counts["unknown"] or counts["error"] else 0


def _print_line(v: FileVerdict) -> None:
    label = {True: "[green]valid  [/]", False: "[red]INVALID[/]", "unknown": "[yellow]unknown[/]"}.get(
        v.valid, "[red]error  [/]"
    )
    if v.valid is None:
        err.print(f"[red]error:[/] {v.summary}")
        out.print(f"{label} {'-':>9} {'-':>7}  {v.path}")
        return
    tail = f"  {v.summary}" if v.summary else ""
    out.print(f"{label} {v.seconds:8.3f}s {v.ops:7d}  {v.path}{tail}")



def _html_path(history_path: Path, html_dir: str | None, suffix: str) -> Path | None:
    """Next to the history by default; None when that folder cannot be written."""
    folder = Path(html_dir) if html_dir else history_path.parent
    if html_dir:
        folder.mkdir(parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK):
        return None
    return folder / f"{history_path.stem}-{suffix}.html"


def check_linearizable(files: tuple[str, ...], model: str | None, budget: float | None, html_dir: str | None,
                       explain: bool, as_json: bool) -> int:
    """`analyze linearizable`: each history under `model` (default: its run's own model,
    else cas-register); the exit status."""
    from distlab.checkers.linearizable import check, get_model, write_html

    if model is not None:
        try:
            get_model(model)
        except (KeyError, ValueError) as exc:
            raise AnalyzeError(exc.args[0] if exc.args else str(exc)) from exc
    model_of: dict[str, str] = {}
    for target in map(find_target, files):
        its = own_lin_model(target)
        chosen = model or its or "cas-register"
        warn_other_checker(target, "--model", chosen, its)
        model_of[str(target.history)] = chosen

    def one(history: list[dict[str, Any]], path: Path) -> FileVerdict:
        name = model_of[str(path)]
        try:
            result = check(history, name, budget=budget)
        except (KeyError, TypeError, ValueError) as exc:
            return FileVerdict(str(path), None, summary=f"{path}: not a {name} history: {exc}")
        verdict = FileVerdict(str(path), result.valid, result.elapsed, result.ops)
        verdict.details = {"partitions": result.partitions, "configs": result.configs}
        if result.valid is False:
            lines = result.explain().splitlines()
            verdict.summary = next((ln.strip() for ln in lines if ln.startswith("cannot linearize")), lines[0])
            html = _html_path(path, html_dir, "linearizability")
            if html is not None:
                write_html(result, html)
                verdict.details["html"] = str(html)
            verdict.details["explanation"] = result.explain()
            if explain and not as_json:
                out.print(result.explain(), markup=False)
        elif result.valid == "unknown":
            verdict.summary = result.reason or "budget exhausted"
        return verdict

    return run_files(tuple(model_of), one, as_json)


def check_workload(files: tuple[str, ...], name: str | None, as_json: bool) -> int:
    """`analyze workload`: each history with workload `name`'s checker (default: its
    run's own, configured as its config.json says); the exit status."""
    import random

    from distlab.options import RunError
    from distlab.workloads.base import load_workload

    targets = []
    for item in files:
        target = find_target(item)
        chosen = name or target.workload
        if chosen is None:
            raise AnalyzeError(f"{item}: say which workload's checker to use (-w)")
        warn_other_checker(target, "-w", chosen, target.workload)
        targets.append((str(target.history), chosen, target))
    checkers: dict[str, Any] = {}
    contexts: dict[str, dict[str, Any]] = {}
    for path, chosen, target in targets:
        try:
            cls = load_workload(chosen)
            own = target.config if chosen == target.workload else None
            params = cls.params_from(run_options(own)) if own is not None else cls.Params()
        except (ValueError, TypeError, RunError) as exc:
            raise AnalyzeError(f"{target.name}: {exc}") from exc
        checkers[path] = cls(params, random.Random(0)).checker()
        contexts[path] = {**(own or {}), "run_dir": str(target.history.parent)}

    def one(history: list[dict[str, Any]], path: Path) -> FileVerdict:
        start = time.perf_counter()
        result = checkers[str(path)].check(history, contexts[str(path)]).to_dict()
        verdict = FileVerdict(str(path), result.get("valid"), time.perf_counter() - start, client_ops(history))
        verdict.details = result
        if result.get("valid") is not True:
            shown = {k: v for k, v in result.items() if k != "valid" and v not in (0, [], {}, None)}
            verdict.summary = orjson.dumps(shown).decode()[:200]
        return verdict

    return run_files(tuple(p for p, _, _ in targets), one, as_json)


def check_txn(files: tuple[str, ...], txn_workload: str | None, consistency_models: list[str] | None,
              budget: float | None, as_json: bool) -> int:
    """`analyze txn`: each transactional history's anomalies and the models they rule
    out (default flavour and models: the run's own, else list-append and
    strict-serializable); the exit status."""
    from distlab.checkers import txn

    kind_of: dict[str, str] = {}
    models_of: dict[str, list[str]] = {}
    for target in map(find_target, files):
        own = own_txn_check(target)  # the run's own checker, as its config.json set it up
        its = own.get("workload")
        chosen = txn_workload or its or "list-append"
        warn_other_checker(target, "--workload", chosen, its)
        kind_of[str(target.history)] = chosen
        models_of[str(target.history)] = consistency_models or list(own.get("consistency_models",
                                                                            ["strict-serializable"]))

    def one(history: list[dict[str, Any]], path: Path) -> FileVerdict:
        flavour = kind_of[str(path)]
        models = models_of[str(path)]
        start = time.perf_counter()
        try:
            result = txn.check(history, flavour, models, budget=budget)
        except (txn.TxnHistoryError, ValueError) as exc:
            return FileVerdict(str(path), None, summary=f"{path}: {exc}")
        elapsed = time.perf_counter() - start
        if not result["stats"]["txns"]:
            return FileVerdict(str(path), None, summary=f"{path}: no {flavour} transactions in this history")
        verdict = FileVerdict(str(path), result["valid"], elapsed, result["stats"]["txns"], details=result)
        if result["anomaly_types"]:
            verdict.summary = f"{', '.join(result['anomaly_types'])}; not {', '.join(result['not']) or '-'}"
            if not as_json:
                for kind, cases in result["anomalies"].items():
                    for case in cases[:1]:
                        text = case.get("explanation") or orjson.dumps(case).decode()[:300]
                        body = "\n".join("      " + line for line in text.splitlines())
                        out.print(f"  {kind}:\n{body}", markup=False)
        return verdict

    return run_files(tuple(kind_of), one, as_json)


def check_raft(run_dirs: tuple[str, ...]) -> int:
    """`analyze raft`: Raft's safety properties from each run directory's node logs; the
    exit status (a directory without node logs or trace lines is reported and skipped)."""
    from distlab.checkers.raft_trace import check_logs

    worst = 0
    for name in run_dirs:
        path = Path(name)
        logs = path / "node-logs"
        if not logs.is_dir():
            err.print(f"[red]error:[/] {name} has no node-logs folder: not a run directory")
            worst = 2
            continue
        try:
            mode = orjson.loads((path / "config.json").read_bytes()).get("mode", "sim")
        except (OSError, orjson.JSONDecodeError):
            mode = "sim"
        report = check_logs(path, ordered=mode == "sim")
        if report.leaders + report.applied + report.restores == 0:
            err.print(f"[red]error:[/] {name}: no raft trace lines in its node logs "
                      "(see distlab/checkers/raft_trace.py for what a node writes)")
            worst = 2
            continue
        seen = (f"{report.nodes} nodes, {report.leaders} elections, {report.applied} entries "
                f"applied, {report.restores} snapshot restores"
                + ("" if mode == "sim" else "; leader completeness not checked (real processes)"))
        if report.ok:
            out.print(f"[green]safe   [/] {name}  ({seen})")
        else:
            out.print(f"[red]UNSAFE [/] {name}  ({seen}): {len(report.violations)} violation(s)")
            for v in report.violations[:10]:
                out.print(f"  - {v}")
            worst = max(worst, 1)
    return worst
