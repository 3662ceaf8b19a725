"""`distlab shard-lab`: MIT 6.824's shard controller scenarios (4A) on a controller node."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from distlab.cli.kv_lab import _seed
from distlab.cli.shared import (
    SCENARIO_MARKS,
    CliError,
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
@click.command("shard-lab")
@click.option("--bin", "bin_path", type=click.Path(dir_okay=False),
              help="The shard controller node: a Python SDK file (simulated) or any executable "
                   "(real processes). Default: distlab's own (distlab/systems/shardctrler/node.py).")
@click.argument("bin_args", nargs=-1, type=click.UNPROCESSED)
@scenario_option("4a_move*")
@click.option("--kv", is_flag=True,
              help="The sharded KV's scenarios (6.824 4B, on a shardkv node) instead of the controller's (4A).")
@mode_option()
@click.option("--seed", default=1, show_default=True, type=int, help="The scenarios' seed.")
@store_option()
@list_option()
def shard_lab(bin_path: str | None, bin_args: tuple[str, ...], patterns: tuple[str, ...], kv: bool, mode: str,
              seed: int, store: str, list_only: bool) -> None:
    """Run MIT 6.824's shard controller scenarios (TestBasic, TestMulti and three under
    faults) on a node serving join/leave/move/query, or with --kv the sharded KV's (the
    thirteen shardkv tests and one with shards moving under loss) on a node playing every
    server; arguments after the options (or after --) go to the node. Each checks 6.824's
    assertions (for the KV: linearizability per key) and Raft safety from the node logs
    (said to be unchecked when the node writes no raft trace lines)."""
    from distlab.systems.kvraft.lab import LabSkip
    from distlab.systems.raft.suite import SuiteError, select

    if kv:
        from distlab.systems.shardkv.lab import NODE_PATH, SCENARIOS, Lab
    else:
        from distlab.systems.shardctrler.lab import NODE_PATH, SCENARIOS, Lab  # type: ignore[assignment]

    with as_cli_error(SuiteError):
        names = select(list(patterns), SCENARIOS)
    if list_only:
        for name in names:
            out.print(name)
        return
    node = bin_path or NODE_PATH
    if not Path(node).is_file():
        raise CliError(f"--bin {node}: no such file")
    out.print(f"[bold]shard-lab[/]: {len(names)} scenarios on {node}"
              + (f" {' '.join(bin_args)}" if bin_args else ""), soft_wrap=True, highlight=False)
    counts: dict[str, int] = {}
    for name in names:
        lab = Lab(node, list(bin_args), store=store, mode=mode, seed=seed)
        start = time.perf_counter()
        with out.status(f"{name} ...", spinner="dots"), as_cli_error(RunError):
            try:
                detail, status = lab.run(name), "pass"
            except LabSkip as exc:  # the check needs the nodes' raft trace lines: not a pass
                detail, status = f"skipped: this check {exc}", "skip"
            except AssertionError as exc:
                detail, status = str(exc).splitlines()[0] if str(exc) else "failed", "fail"
        counts[status] = counts.get(status, 0) + 1
        run_dir = lab.runs[-1].run_dir if lab.runs else None
        if status == "fail":
            if run_dir is not None:
                detail += f" (seed {_seed(run_dir)}; run {run_dir})"
        out.print(f"{SCENARIO_MARKS[status]} {name:<44} {time.perf_counter() - start:6.1f} s  {detail}",
                  highlight=False, soft_wrap=True)
    out.print(f"[bold]{len(names)} scenarios[/]: {counts.get('pass', 0)} pass"
              + "".join(f", {counts[k]} {k}" for k in ("skip", "fail") if counts.get(k)))
    sys.exit(1 if counts.get("fail") else 0)
