"""`distlab kv-lab`: MIT 6.824's KV-lab scenarios (3A, 3B) on a lin-kv node."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
import orjson

from distlab.cli.shared import (
    SCENARIO_MARKS,
    as_cli_error,
    list_option,
    mode_option,
    out,
    pins_hash,
    scenario_option,
    store_option,
)
from distlab.options import RunError


@pins_hash
@click.command("kv-lab", context_settings={"ignore_unknown_options": False})
@click.option("--bin", "bin_path", type=click.Path(dir_okay=False),
              help="The lin-kv node: a Python SDK file (simulated) or any executable "
                   "(real processes). Required, except with --list.")
@click.argument("bin_args", nargs=-1, type=click.UNPROCESSED)
@scenario_option("3b_*")
@mode_option()
@click.option("--max-state-bytes", default=8192, show_default=True, type=click.IntRange(1),
              help="3B snapshot size: the most bytes a node may keep on its disk.")
@click.option("--seed-offset", default=0, show_default=True, type=int,
              help="Added to each scenario's fixed seed: the same scenarios, other schedules.")
@store_option()
@list_option()
def kv_lab(bin_path: str | None, bin_args: tuple[str, ...], patterns: tuple[str, ...], mode: str,
           max_state_bytes: int, seed_offset: int, store: str, list_only: bool) -> None:
    """Run MIT 6.824's KV-lab scenarios (3A, 3B) on a lin-kv node; arguments after the
    options (or after --) go to the node. A pass on a node that writes no raft trace lines
    says that Raft safety was not checked."""
    from distlab.systems.kvraft.lab import SCENARIOS, Lab, LabSkip, run_scenario
    from distlab.systems.raft.suite import SuiteError, select

    with as_cli_error(SuiteError):
        names = select(list(patterns), SCENARIOS)
    if list_only:
        for name in names:
            out.print(name)
        return
    if bin_path is None:
        raise click.UsageError("Missing option '--bin' (the node to test; only --list runs without it).")
    out.print(f"[bold]kv-lab[/]: {len(names)} scenarios on {bin_path}"
              + (f" {' '.join(bin_args)}" if bin_args else ""), soft_wrap=True)
    counts: dict[str, int] = {}
    failed: list[tuple[str, Path | None]] = []
    for name in names:
        lab = Lab(bin_path, list(bin_args), store=store, mode=mode,
                  max_state_bytes=max_state_bytes, seed_offset=seed_offset)
        start = time.perf_counter()
        with out.status(f"{name} ...", spinner="dots"), as_cli_error(RunError):
            try:
                detail, status = run_scenario(lab, name), "pass"
            except LabSkip as exc:
                detail, status = f"skipped: this check {exc}", "skip"
            except AssertionError as exc:
                detail, status = str(exc).splitlines()[0], "fail"
        counts[status] = counts.get(status, 0) + 1
        mark = SCENARIO_MARKS[status]
        run_dir = lab.runs[-1].run_dir if lab.runs else None
        if status == "fail":
            failed.append((name, run_dir))
            if run_dir is not None:
                detail += f" (seed {_seed(run_dir)}; run {run_dir}{_replay(run_dir)})"
        out.print(f"{mark} {name:<48} {time.perf_counter() - start:6.1f} s  {detail}",
                  highlight=False, soft_wrap=True)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    out.print(f"[bold]{len(names)} scenarios[/]: {summary}")
    for name, run_dir in failed[:1]:
        if run_dir is not None:
            out.print(f"first failure ({name}): its last run is {run_dir}; "
                      f"`distlab analyze raft {run_dir}` and the node logs there say more",
                      highlight=False, soft_wrap=True)
    sys.exit(1 if failed else 0)


def _seed(run_dir: Path) -> object:
    """The seed the failing run used (its config.json), for the learner to quote."""
    try:
        return orjson.loads((run_dir / "config.json").read_bytes()).get("seed", "?")
    except (OSError, ValueError):
        return "?"


def _replay(run_dir: Path) -> str:
    """How to re-run a failure step by step: simulated runs replay exactly, except a
    scripted scenario's (its clients are the script's), which kv-lab itself re-runs."""
    try:
        config = orjson.loads((run_dir / "config.json").read_bytes())
    except (OSError, ValueError):
        return ""
    if "scenario" in config:
        return f"; re-run: distlab kv-lab -s {config['scenario']} (same node, same seed offset)"
    return f"; replay: distlab replay {run_dir}" if config.get("mode") == "sim" else ""
