"""`distlab analyze`: saved histories (and Raft traces) in, verdicts out.

The options live here; the checking lives in distlab/analyze.py, whose `AnalyzeError`
(not a run directory, unknown model or workload) ends as the CLI's one error line and
exit status 2. It reads files only and runs no node code, so it does not pin hashing.
"""

from __future__ import annotations

import sys

import click

from distlab.analyze import (
    MODEL_NAMES,
    AnalyzeError,
    check_linearizable,
    check_raft,
    check_txn,
    check_workload,
)
from distlab.cli.shared import as_cli_error

__all__ = ["analyze"]


@click.group()
def analyze() -> None:
    """Check saved histories (distlab JSONL, Jepsen EDN, Jepsen logs)."""


@analyze.command("linearizable")
@click.option("--model", default=None,
              help=f"{', '.join(MODEL_NAMES)} (lin-kv runs' model). "
                   "Default: the run's own model, else cas-register.")
@click.option("--budget", type=float, default=None, help="Seconds per file before the verdict is unknown.")
@click.option("--html-dir", default=None, help="Where explanation pages go (default: next to each history).")
@click.option("--explain/--no-explain", default=True, show_default=True, help="Print why an illegal history is illegal.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.argument("files", nargs=-1, required=True, type=click.Path())
def linearizable(model: str | None, budget: float | None, html_dir: str | None, explain: bool, as_json: bool,
                 files: tuple[str, ...]) -> None:
    """Is each history (or run directory's history) linearizable under MODEL? (Wing-Gong-Lowe
    search, partitioned by key.)"""
    with as_cli_error(AnalyzeError):
        sys.exit(check_linearizable(files, model, budget, html_dir, explain, as_json))


@analyze.command("workload")
@click.option("-w", "--workload", "name", default=None,
              help="The workload whose checker to run (default: the one a run directory records).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.argument("files", nargs=-1, required=True, type=click.Path())
def workload_check(name: str | None, as_json: bool, files: tuple[str, ...]) -> None:
    """Re-check saved histories (or run directories) with a workload's own checker, as
    the run's config.json configured it (consistency models, ...); a history of another
    workload, or without a config.json, gets the checker's defaults."""
    with as_cli_error(AnalyzeError):
        sys.exit(check_workload(files, name, as_json))


@analyze.command("txn")
@click.option("--workload", "txn_workload", type=click.Choice(["list-append", "rw-register"]),
              default=None, help="Default: the run's own (txn-list-append, txn-rw-register), "
                                 "else list-append.")
@click.option("--consistency-models", default=None,
              help="Comma-separated: read-uncommitted, read-committed, snapshot-isolation, "
                   "repeatable-read, serializable, strict-serializable, ... Default: the run's own "
                   "(config.json), else strict-serializable.")
@click.option("--budget", type=float, default=None, help="Seconds for the cycle search per file.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.argument("files", nargs=-1, required=True, type=click.Path())
def txn_check(txn_workload: str | None, consistency_models: str | None, budget: float | None, as_json: bool,
              files: tuple[str, ...]) -> None:
    """Which anomalies does each transactional history (or run directory's history) show,
    and which models do they rule out?"""
    given = None if consistency_models is None else [m.strip() for m in consistency_models.split(",") if m.strip()]
    with as_cli_error(AnalyzeError):
        sys.exit(check_txn(files, txn_workload, given, budget, as_json))


@analyze.command("raft")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False))
def raft_check(run_dirs: tuple[str, ...]) -> None:
    """Check Raft's safety properties from the `raft {...}` lines in run directories' node
    logs (distlab/checkers/raft_trace.py says what a node writes)."""
    sys.exit(check_raft(run_dirs))
