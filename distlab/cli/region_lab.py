"""`distlab region-lab`: TinyKV's project 3B and 3C scenarios on a learner's pieces (Raft,
region split, placement driver), each checked for linearizability per key and Raft safety."""

from __future__ import annotations

import shlex
import sys

import click
from rich.markup import escape

from distlab.cli.shared import (
    SCENARIO_MARKS,
    as_cli_error,
    list_option,
    out,
    pins_hash,
    scenario_option,
)
from distlab.systems.raft.core import MUTANTS


@pins_hash
@click.command("region-lab")
@click.option("--raft", "raft", metavar="MOD:FACTORY",
              help="Your Raft: a factory as MODULE:NAME or FILE.py:NAME, built as factory(node_id, peers, "
                   "rng, persisted) like raft-test's, plus compact(index, data) and transfer_leader(target). "
                   "Default: distlab's RaftCore.")
@click.option("--split", "split", metavar="MOD:FUNC",
              help="Your region split: split_keys as MODULE:NAME or FILE.py:NAME, with split() and Region in "
                   "the same module (the Sharder track's region-split task). Default: distlab's.")
@click.option("--pd", "pd", multiple=True, metavar="MOD",
              help="Your placement driver: a module or FILE.py defining RegionTable and Region (the Sharder "
                   "track's heartbeats task) and/or balance, Store and RegionInfo (its balance task). "
                   "Repeatable. Default: distlab's.")
@scenario_option("*Split*")
@click.option("--seeds", default=1, show_default=True, type=click.IntRange(1), help="Seeds per scenario.")
@click.option("--first-seed", default=1, show_default=True, type=int)
@click.option("--mutant", "mutants", multiple=True, type=click.Choice(sorted(MUTANTS)),
              help="distlab's Raft only: switch on a classic bug (repeatable).")
@click.option("--follower-reads", is_flag=True,
              help="The known-bad read path: a get answered from the nearest replica's applied state.")
@click.option("--timeout", default=120.0, show_default=True, type=click.FloatRange(0.1),
              help="Wall-clock seconds per scenario and seed, and for each piece's shape check before them.")
@list_option()
def region_lab(raft: str | None, split: str | None, pd: tuple[str, ...], patterns: tuple[str, ...],
               seeds: int, first_seed: int, mutants: tuple[str, ...], follower_reads: bool,
               timeout: float, list_only: bool) -> None:
    """Run TinyKV's Multi-Raft scenarios (3B: leader transfer, conf change and split under
    restarts, loss and partitions; 3C: region heartbeats and balance) on a cluster built
    from your pieces, each defaulting to distlab's own. Every run is checked for
    linearizability per key and Raft safety per region, and every piece for its contract."""
    from distlab.systems.multiraft.pieces import PieceError, load_pieces
    from distlab.systems.multiraft.suite import SCENARIOS, run_scenario
    from distlab.systems.raft.suite import SuiteError, select

    with as_cli_error(SuiteError):
        names = select(list(patterns), SCENARIOS)
    if list_only:
        for name in names:
            out.print(name)
        return
    if raft and mutants:
        raise click.UsageError("--mutant applies to distlab's own Raft, not to --raft")
    with as_cli_error(PieceError):
        pieces = load_pieces(raft, split, pd, frozenset(mutants), follower_reads, timeout)
    out.print(f"[bold]region-lab[/]: {len(names)} scenarios x {seeds} seed(s); {pieces.describe()}",
              soft_wrap=True, highlight=False)
    failed = []
    counts: dict[str, int] = {}
    with out.status("starting", spinner="dots") as status:

        def on_seed(name: str, seed: int) -> None:
            status.update(f"{name}: seed {seed}")

        for name in names:
            o = run_scenario(name, pieces, range(first_seed, first_seed + seeds), timeout, on_seed)
            counts[o.status] = counts.get(o.status, 0) + 1
            line = f"{name:<66} {o.seeds_passed}/{o.seeds} seeds {o.seconds:6.2f} s"
            if o.status != "pass":
                failed.append(o)
                line += f"  seed {o.seed}: {o.detail}"
            elif o.detail:
                line += f"  ({o.detail})"
            # the detail quotes keys such as [b'', b'k20'): never read as markup
            out.print(f"{SCENARIO_MARKS[o.status]} {escape(line)}", highlight=False, soft_wrap=True)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    out.print(f"[bold]{len(names)} scenarios[/]: {summary}")
    for o in failed[:1]:
        argv = ["distlab", "region-lab", *(["--raft", raft] if raft else []), *(["--split", split] if split else []),
                *(a for p in pd for a in ("--pd", p)), *(a for m in mutants for a in ("--mutant", m)),
                *(["--follower-reads"] if follower_reads else []), "-s", o.name, "--first-seed", str(o.seed)]
        out.print(f"replay the first failure (runs are deterministic): {shlex.join(argv)}",
                  highlight=False, soft_wrap=True, markup=False)
    sys.exit(1 if failed else 0)
