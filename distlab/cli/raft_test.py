"""`distlab raft-test`: the Raft scenarios (6.824's 2A-2D, TinyKV's 3A and more) on a Raft factory."""

from __future__ import annotations

import sys
from typing import Any

import click

from distlab.cli.shared import (
    SCENARIO_MARKS,
    as_cli_error,
    list_option,
    out,
    pins_hash,
    scenario_option,
)
from distlab.systems.raft.core import MUTANTS, Config


def _print_outcome(o: Any, counts: dict[str, int], failed: list[Any], width: int = 32) -> None:
    """One line per scenario: verdict, seeds passed, time, and the first failure."""
    counts[o.status] = counts.get(o.status, 0) + 1
    mark = SCENARIO_MARKS[o.status]
    line = f"{mark} {o.name:<{width}} {o.seeds_passed}/{o.seeds} seeds  {o.seconds:6.2f} s"
    if o.status in ("fail", "timeout"):
        line += f"  seed {o.seed}: {o.detail}"
        failed.append(o)
    elif o.detail:
        line += f"  ({o.detail})"
    out.print(line, highlight=False, soft_wrap=True)
    if o.events:
        out.print(f"  the tester's last {len(o.events)} events before it:", style="dim")
        for event in o.events:
            out.print(f"    {event}", highlight=False, soft_wrap=True, markup=False)
        if any('{"k":' in event for event in o.events):
            out.print(MESSAGE_KEYS, style="dim", highlight=False, soft_wrap=True, markup=False)


# The tester prints messages as RaftCore's compact to_dict(); a learner reads them here.
MESSAGE_KEYS = ("  message keys: k kind, s from, d to, t term, i index (of the entry before the "
                "ones sent, or the one replied about), lt that entry's term, e entries [term, command], "
                "c leader's commit, x rejected, hi/ht hint index/term (where to back up to), "
                "r read round, sn snapshot [index, term, data]")


@pins_hash
@click.command("raft-test")
@click.argument("target", required=False)
@scenario_option("2a_*")
@click.option("--seeds", default=1, show_default=True, type=click.IntRange(1), help="Seeds per scenario.")
@click.option("--first-seed", default=1, show_default=True, type=int)
@click.option("--mutant", "mutants", multiple=True, type=click.Choice(sorted(MUTANTS)),
              help="distlab's core only: switch on a classic bug (repeatable).")
@click.option("--no-pre-vote", is_flag=True, help="distlab's core only: turn pre-vote off.")
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(0.1),
              help="Wall-clock seconds per scenario and seed.")
@click.option("--trace", default=0, show_default=True, type=click.IntRange(0),
              help="On a failure, show the tester's last N events (messages, roles, faults).")
@list_option()
def raft_test(target: str | None, patterns: tuple[str, ...], seeds: int, first_seed: int,
              mutants: tuple[str, ...], no_pre_vote: bool, timeout: float, trace: int,
              list_only: bool) -> None:
    """Run the Raft scenarios (6.824's 2A-2D, TinyKV's 3A and more) on TARGET, a factory given as
    MODULE:NAME or FILE.py:NAME, or on distlab's own Raft if TARGET is omitted."""
    from distlab.systems.raft.suite import SuiteError, load_factory, run_suite, select

    with as_cli_error(SuiteError):
        names = select(list(patterns))
        if list_only:
            for name in names:
                out.print(name)
            return
        if target is not None and (mutants or no_pre_vote):
            raise SuiteError("--mutant and --no-pre-vote apply to distlab's own Raft, not to TARGET")
        raft = load_factory(target) if target else Config(pre_vote=not no_pre_vote, mutants=frozenset(mutants))
        what = target or "distlab's RaftCore" + (f" with {', '.join(mutants)}" if mutants else "")
        out.print(f"[bold]raft-test[/]: {len(names)} scenarios x {seeds} seed(s) on {what}", soft_wrap=True)
        seed_range = range(first_seed, first_seed + seeds)
        failed: list[Any] = []
        counts: dict[str, int] = {}
        with out.status("starting", spinner="dots") as status:  # animated on a terminal only

            def on_seed(name: str, seed: int) -> None:
                status.update(f"{name}: seed {seed} ({seed - first_seed + 1}/{seeds})")

            width = max(32, *map(len, names))  # TinyKV's 3A names run long
            for o in run_suite(raft, names, seed_range, timeout, on_seed, trace):
                _print_outcome(o, counts, failed, width)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    out.print(f"[bold]{len(names)} scenarios[/]: {summary}")
    for o in failed[:1]:
        rerun = " ".join(["distlab raft-test", *([target] if target else []),
                          *(f"--mutant {m}" for m in mutants), *(["--no-pre-vote"] if no_pre_vote else []),
                          "-s", o.name, "--first-seed", str(o.seed),
                          *(["--trace", str(trace)] if trace else [])])
        out.print(f"re-run the first failure: {rerun}", highlight=False, soft_wrap=True)
    if not failed and counts and set(counts) == {"skip"}:  # nothing was tested: not a pass
        out.print("error: every selected scenario was skipped, so nothing was tested: "
                  "add what the SKIP lines name", style="red", highlight=False, soft_wrap=True)
        sys.exit(2)
    sys.exit(1 if failed else 0)
