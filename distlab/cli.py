"""The `distlab` command: test, replay, demo."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from distlab import __version__
from distlab.analyze import analyze
from distlab.examples import example_path
from distlab.nemesis import KINDS, SCHEDULES
from distlab.options import RunError, TestOptions, resolve_nodes
from distlab.report.node_errors import summary_rows
from distlab.runner import RunResult, run_test
from distlab.systems.raft.core import MUTANTS, Config
from distlab.workloads.base import workload_names

out = Console()
err = Console(stderr=True, soft_wrap=True, highlight=False)  # errors stay one line

SIM_COMMANDS = {"test", "replay", "demo"}  # commands that may load node code: pin hashing


def _error(text: str) -> None:
    """One line on stderr, never read as markup: messages quote paths and node output."""
    err.print(Text.assemble(("error:", "red"), " ", " ".join(str(text).split("\n"))))


def _os_error(exc: OSError) -> str:
    if exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


class OneLineErrors(click.Group):
    """The `distlab` group: a usage error, a file that cannot be read or an unexpected
    failure ends with one line on stderr naming the cause, never a traceback."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:  # type: ignore[override]
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:  # bare `distlab`: the help, as click shows it
            exc.show()
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            hint = f" (see {ctx.command_path} --help)" if isinstance(exc, click.UsageError) and ctx else ""
            _error(exc.format_message() + hint)
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            _error("interrupted")
            sys.exit(130)
        except OSError as exc:
            _error(_os_error(exc))
            sys.exit(2)
        except Exception as exc:
            if os.environ.get("DISTLAB_TRACEBACK"):
                raise
            _error(f"{type(exc).__name__}: {exc} (unexpected: set DISTLAB_TRACEBACK=1 to see where)")
            sys.exit(2)
        sys.exit(rv if isinstance(rv, int) else 0)


def _verdict_text(valid: Any) -> str:
    return {True: "[bold green]VALID[/]", False: "[bold red]INVALID[/]"}.get(valid, "[bold yellow]UNKNOWN[/]")


def _short_json(value: Any, limit: int = 200) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= limit else text[:limit] + " ..."


MAX_ERROR_ROWS = 8


def print_summary(result: RunResult, console: Console = out) -> None:
    """The table a run ends with: outcome counts, stats, availability, network, latency,
    node errors, verdict."""
    r = result.results
    stats, net, lat = r["stats"], r["net"], r["latency_ms"]
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    table.add_row(
        "operations",
        f"{stats['count']}  (ok {stats['ok']}, fail {stats['fail']}, info {stats['info']}"
        + (f", pending {stats['pending']}" if stats.get("pending") else "")
        + ")",
    )
    for f, per in sorted(stats["by_f"].items()):
        table.add_row(f"  {f}", f"ok {per['ok']}, fail {per['fail']}, info {per['info']}")
    if "valid" in stats and (stats["count"] or not r.get("error")):
        if stats["valid"]:
            table.add_row("stats", "ok  (each function succeeded at least once)")
        else:
            table.add_row("stats", Text("; ".join(stats["errors"]), style="bold red"))
    avail = r["availability"]
    req = f", required {avail['required']:.3f}" if avail["required"] is not None else ""
    table.add_row("availability", f"{avail['ok_fraction']:.4f}{req}" + ("" if avail["valid"] else "  [red]too low[/]"))
    table.add_row(
        "messages",
        f"msgs-per-op {net['msgs_per_op']:.2f}  (server {net['server_msgs']}, client {net['client_msgs']}, dropped {net['dropped']})",
    )
    if net.get("delay"):
        table.add_row("network delay", net["delay"])
    if lat:
        table.add_row(
            "latency ms",
            "  ".join(f"{name} {lat[q]:g}" for name, q in (("min", "0.0"), ("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99"), ("max", "1.0"))),
        )
    if r.get("nemesis_ops"):
        table.add_row("nemesis", ", ".join(f"{k} {v}" for k, v in r["nemesis_ops"].items()))
    for line in r.get("warnings", []):
        table.add_row("[yellow]warning[/]", Text(line))
    for key, value in r["workload"].items():
        if key != "valid" and not r.get("error"):
            text = value if isinstance(value, str) else _short_json(value)
            table.add_row(f"workload {key}", Text(text))
    raft = r.get("raft_safety")
    if raft is not None:
        seen = f"{raft['elections']} elections, {raft['applied']} entries applied, {raft['restores']} restores"
        if raft["valid"]:
            table.add_row("raft safety", f"ok  ({seen}, from the node logs)")
        else:
            table.add_row("raft safety", Text(f"VIOLATED  ({seen}): {raft['violations'][0]}", style="red"))
    rows = summary_rows(r.get("node_errors", []))
    for line in rows[:MAX_ERROR_ROWS]:
        table.add_row("[bold red]node error[/]", Text(line, style="red"))
    if len(rows) > MAX_ERROR_ROWS:
        table.add_row("[bold red]node error[/]", Text(f"... and {len(rows) - MAX_ERROR_ROWS} more in results.json"))
    if r.get("error"):
        table.add_row("[red]error[/]", Text(r["error"]))
    if r.get("mode", "sim") == "sim":
        table.add_row("time", f"{r.get('sim_seconds', 0):.1f} s simulated in {r.get('wall_seconds', 0):.2f} s wall")
    else:
        table.add_row("time", f"{r.get('wall_seconds', 0):.1f} s with real processes")
    verdict = Text.from_markup(_verdict_text(r["valid"]))
    if r.get("verdict_note"):  # client requests failed because the node's code broke: never looks clean
        verdict.append(("  — but " if r["valid"] is True else "  — ") + r["verdict_note"], style="red")
    table.add_row("verdict", verdict)
    table.add_row("seed", str(r["seed"]))
    table.add_row("run dir", str(result.run_dir))
    console.print(table)


def _error_after_summary(result: RunResult) -> None:
    """A run that could not finish says why on stderr too: one line, for scripts and eyes."""
    if result.results.get("error"):
        _error(f"{result.results['error']} (run dir {result.run_dir})")


def _run_with_progress(opts: TestOptions, quiet: bool = False) -> RunResult:
    if quiet or not err.is_terminal:
        return run_test(opts)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
        TextColumn("{task.fields[ops]} ops"),
        TextColumn("[dim]{task.fields[phase]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        mode = opts.resolved_mode()
        label = f"{opts.workload} seed {opts.seed}" + (" (real processes)" if mode == "process" else "")
        task = bar.add_task(label, total=opts.time_limit, ops=0, phase="")

        def progress(now: float, end: float, ops: int) -> None:
            bar.update(task, completed=min(now, opts.time_limit), ops=ops)

        def phase(name: str) -> None:
            bar.update(task, phase=name)

        return run_test(opts, progress=progress, phase=phase)


def _exit_code(results: list[RunResult]) -> int:
    codes = {r.exit_code for r in results}
    return 1 if 1 in codes else 2 if 2 in codes else 0


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version")
def cli() -> None:
    """Build distributed systems, then watch them fail under test."""


@cli.command(context_settings={"ignore_unknown_options": False})
@click.option("-w", "--workload", default="lin-kv", show_default=True, type=click.Choice(workload_names()),
              help="What clients do and what is checked (Maelstrom's default: lin-kv).")
@click.option("--bin", "bin_path", required=True, type=click.Path(dir_okay=False), help="The node: a Python file using distlab's Node.")
@click.argument("bin_args", nargs=-1, type=click.UNPROCESSED)
@click.option("--node-count", default=None, type=click.IntRange(1, 1000),
              help="Nodes n0..n{N-1}; overrides --nodes. Neither given: Maelstrom's 5 nodes, n1..n5.")
@click.option("--nodes", default=None, metavar="NODE_LIST", help="Comma-separated node ids, e.g. n1,n2,n3.")
@click.option("-n", "--node", multiple=True, metavar="ID", help="One node id (repeatable); added after --nodes.")
@click.option("--nodes-file", default=None, type=click.Path(dir_okay=False), help="Node ids, one per line.")
@click.option("--time-limit", default=60.0, show_default=True, type=float, help="Seconds of client operations.")
@click.option("--rate", default=5.0, show_default=True, type=click.FloatRange(0),
              help="Total operations per second; 0: none (faults and final reads only), as in Maelstrom.")
@click.option("--concurrency", default="1n", show_default=True, help="Client workers; a suffix n multiplies by node count.")
@click.option("--latency", default=None, type=click.FloatRange(0),
              help="Mean server-to-server latency, ms. Not given: the simulator adds a small random delay "
                   "(exponential, mean 0.25 ms) so nodes interleave as processes do; 0: none at all.")
@click.option("--latency-dist", default="constant", show_default=True, type=click.Choice(["constant", "uniform", "exponential"]))
@click.option("--loss", default=0.0, show_default=True, type=click.FloatRange(0, 1), help="Baseline message loss probability.")
@click.option("--duplication", default=0.0, show_default=True, type=click.FloatRange(0, 1), help="Baseline duplication probability.")
@click.option("--nemesis", default="", help=f"Comma-separated faults: {','.join(KINDS)}.")
@click.option("--nemesis-interval", default=10.0, show_default=True, type=float,
              help="Mean seconds between fault changes (each gap uniform in 0..2x, the first change at the start).")
@click.option("--nemesis-schedule", default="stagger", show_default=True, type=click.Choice(SCHEDULES),
              help="stagger: Jepsen's and Maelstrom's; fixed: a change every interval exactly, from one interval in.")
@click.option("--availability", default=None, help="'total' or a fraction of operations that must succeed.")
@click.option("--topology", default="grid", show_default=True, type=click.Choice(["grid", "line", "tree", "tree2", "tree3", "tree4", "total"]))
@click.option("--consistency-models", default="", help="For transactional workloads.")
@click.option("--max-txn-length", default=4, show_default=True, type=int)
@click.option("--max-writes-per-key", default=16, show_default=True, type=click.IntRange(1),
              help="Maelstrom's txn/kafka option; recorded, not used by distlab's workloads yet.")
@click.option("--key-count", default=None, type=int)
@click.option("--op-timeout", default=5.0, show_default=True, type=float, help="Seconds a client waits for a reply.")
@click.option("--seed", default=None, type=int, help="Run seed (random if omitted; always printed).")
@click.option("--mode", default="auto", show_default=True, type=click.Choice(["auto", "sim", "process"]),
              help="auto: the simulator for Python SDK nodes, real processes for anything else.")
@click.option("--max-memory-mb", default=2048, show_default=True, type=click.IntRange(16), help="Process mode: data size limit per node.")
@click.option("--max-open-files", default=1024, show_default=True, type=click.IntRange(16), help="Process mode: open files per node.")
@click.option("--max-cpu-seconds", default=None, type=click.IntRange(1), help="Process mode: CPU time per node process.")
@click.option("--log-stderr", is_flag=True, help="Copy node logs to stderr as they are written.")
@click.option("--log-net-send", is_flag=True, help="Log each message to stderr as it is sent (all are in messages.jsonl).")
@click.option("--log-net-recv", is_flag=True, help="Log each message to stderr as it is received.")
@click.option("--test-count", default=1, show_default=True, type=click.IntRange(1), help="Runs, with seeds seed, seed+1, ...")
@click.option("--store", default="store", show_default=True, help="Where run directories go.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def test(bin_path: str, bin_args: tuple[str, ...], test_count: int, quiet: bool, **kw: Any) -> None:
    """Run a workload against a cluster of nodes, under faults, and check the history."""
    seed = kw.pop("seed")
    try:
        kw["nodes"] = resolve_nodes(kw.pop("node_count"), kw["nodes"], kw.pop("node"), kw.pop("nodes_file"))
    except RunError as exc:
        _error(f"{exc}")
        sys.exit(2)
    if seed is None:
        seed = secrets.randbelow(2**31)
    models = kw.pop("consistency_models")
    opts_kw = dict(kw, bin=bin_path, bin_args=list(bin_args), consistency_models=[m for m in models.split(",") if m])
    results = []
    for i in range(test_count):
        opts = TestOptions(seed=seed + i, **opts_kw)
        try:
            result = _run_with_progress(opts, quiet)
        except RunError as exc:
            _error(f"{exc}")
            sys.exit(2)
        print_summary(result)
        _error_after_summary(result)
        results.append(result)
    sys.exit(_exit_code(results))


@cli.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--keep", is_flag=True, help="Keep the replay's own run directory.")
def replay(run_dir: str, keep: bool) -> None:
    """Re-run a simulated run from its config and compare the trace hash."""
    src = Path(run_dir)
    try:
        config = orjson.loads((src / "config.json").read_bytes())
        recorded = orjson.loads((src / "results.json").read_bytes())["trace_hash"]
        if not isinstance(config, dict):
            raise TypeError("config.json holds no options object")
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError) as exc:
        _error(f"{run_dir} is not a complete run directory: {exc}")
        sys.exit(2)
    config.pop("bin_sha256", None)
    if config.get("mode") != "sim":
        _error(f"{run_dir} ran real processes ({config.get('mode')} mode); only simulated runs replay")
        sys.exit(2)
    store = tempfile.mkdtemp(prefix="distlab-replay-")
    config["store"] = store
    try:
        opts = TestOptions(**config)
        result = run_test(opts)
    except (RunError, TypeError) as exc:
        _error(f"cannot replay {run_dir}: {exc}")
        sys.exit(2)
    finally:
        if not keep:
            shutil.rmtree(store, ignore_errors=True)
    same = result.results["trace_hash"] == recorded
    if same:
        out.print(f"[green]replay matches[/]: trace hash {recorded[:16]}... (seed {config['seed']})")
    else:
        out.print(
            f"[red]replay differs[/]: recorded {recorded[:16]}..., replayed {result.results['trace_hash'][:16]}... "
            "(did the node file change?)"
        )
    if keep:
        out.print(f"replay run dir: {result.run_dir}")
    sys.exit(0 if same else 1)


@cli.command()
@click.option("--store", default="store", show_default=True)
@click.option("--seed", default=1, show_default=True, type=int)
def demo(store: str, seed: int) -> None:
    """Unique ids on 3 simulated nodes under partitions, with the built-in reference node."""
    opts = TestOptions(
        workload="unique-ids",
        bin=str(example_path("unique-ids")),
        node_count=3,
        time_limit=30,
        rate=1000,
        nemesis=["partition"],
        nemesis_interval=5,
        availability="total",
        seed=seed,
        store=store,
    )
    out.print("[bold]distlab demo[/]: unique-ids, 3 nodes, 30 s at 1000 ops/s, partitions every 5 s")
    try:
        result = _run_with_progress(opts)
    except RunError as exc:
        _error(f"{exc}")
        sys.exit(2)
    print_summary(result)
    _error_after_summary(result)
    sys.exit(result.exit_code)


# How raft-test and kv-lab mark a scenario's outcome (same words, so output greps alike).
SCENARIO_MARKS = {"pass": "[green]PASS[/]", "fail": "[red]FAIL[/]", "timeout": "[red]TIME[/]",
                  "skip": "[yellow]SKIP[/]"}


def _print_outcome(o: Any, counts: dict[str, int], failed: list[Any]) -> None:
    """One line per scenario: verdict, seeds passed, time, and the first failure."""
    counts[o.status] = counts.get(o.status, 0) + 1
    mark = SCENARIO_MARKS[o.status]
    line = f"{mark} {o.name:<32} {o.seeds_passed}/{o.seeds} seeds  {o.seconds:6.2f} s"
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


@cli.command("raft-test")
@click.argument("target", required=False)
@click.option("-s", "--scenario", "patterns", multiple=True, help="Scenario name or glob (repeatable), e.g. '2a_*'.")
@click.option("--seeds", default=1, show_default=True, type=click.IntRange(1), help="Seeds per scenario.")
@click.option("--first-seed", default=1, show_default=True, type=int)
@click.option("--mutant", "mutants", multiple=True, type=click.Choice(sorted(MUTANTS)),
              help="distlab's core only: switch on a classic bug (repeatable).")
@click.option("--no-pre-vote", is_flag=True, help="distlab's core only: turn pre-vote off.")
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(0.1),
              help="Wall-clock seconds per scenario and seed.")
@click.option("--trace", default=0, show_default=True, type=click.IntRange(0),
              help="On a failure, show the tester's last N events (messages, roles, faults).")
@click.option("--list", "list_only", is_flag=True, help="List the scenarios and exit.")
def raft_test(target: str | None, patterns: tuple[str, ...], seeds: int, first_seed: int,
              mutants: tuple[str, ...], no_pre_vote: bool, timeout: float, trace: int,
              list_only: bool) -> None:
    """Run the Raft scenarios (6.824's 2A-2D and more) on TARGET, a factory given as
    MODULE:NAME or FILE.py:NAME, or on distlab's own Raft if TARGET is omitted."""
    from distlab.systems.raft.suite import SuiteError, load_factory, run_suite, select

    try:
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
        failed = []
        counts: dict[str, int] = {}
        with out.status("starting", spinner="dots") as status:  # animated on a terminal only

            def on_seed(name: str, seed: int) -> None:
                status.update(f"{name}: seed {seed} ({seed - first_seed + 1}/{seeds})")

            for o in run_suite(raft, names, seed_range, timeout, on_seed, trace):
                _print_outcome(o, counts, failed)
    except SuiteError as exc:
        _error(f"{exc}")
        sys.exit(2)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    out.print(f"[bold]{len(names)} scenarios[/]: {summary}")
    for o in failed[:1]:
        rerun = " ".join(["distlab raft-test", *([target] if target else []),
                          *(f"--mutant {m}" for m in mutants), *(["--no-pre-vote"] if no_pre_vote else []),
                          "-s", o.name, "--first-seed", str(o.seed),
                          *(["--trace", str(trace)] if trace else [])])
        out.print(f"re-run the first failure: {rerun}", highlight=False, soft_wrap=True)
    sys.exit(1 if failed else 0)


@cli.command("kv-lab", context_settings={"ignore_unknown_options": False})
@click.option("--bin", "bin_path", required=True, type=click.Path(dir_okay=False),
              help="The lin-kv node: a Python SDK file (simulated) or any executable (real processes).")
@click.argument("bin_args", nargs=-1, type=click.UNPROCESSED)
@click.option("-s", "--scenario", "patterns", multiple=True, help="Scenario name or glob (repeatable), e.g. '3b_*'.")
@click.option("--mode", default="auto", show_default=True, type=click.Choice(["auto", "sim", "process"]))
@click.option("--max-state-bytes", default=8192, show_default=True, type=click.IntRange(1),
              help="3B snapshot size: the most bytes a node may keep on its disk.")
@click.option("--seed-offset", default=0, show_default=True, type=int,
              help="Added to each scenario's fixed seed: the same scenarios, other schedules.")
@click.option("--store", default="store", show_default=True, help="Where run directories go.")
@click.option("--list", "list_only", is_flag=True, help="List the scenarios and exit.")
def kv_lab(bin_path: str, bin_args: tuple[str, ...], patterns: tuple[str, ...], mode: str,
           max_state_bytes: int, seed_offset: int, store: str, list_only: bool) -> None:
    """Run MIT 6.824's KV-lab scenarios (3A, 3B) on a lin-kv node; arguments after the
    options (or after --) go to the node."""
    import time as _time

    from distlab.systems.kvraft.lab import SCENARIOS, Lab, LabSkip
    from distlab.systems.raft.suite import SuiteError, select

    try:
        names = select(list(patterns), SCENARIOS)
    except SuiteError as exc:
        _error(f"{exc}")
        sys.exit(2)
    if list_only:
        for name in names:
            out.print(name)
        return
    out.print(f"[bold]kv-lab[/]: {len(names)} scenarios on {bin_path}"
              + (f" {' '.join(bin_args)}" if bin_args else ""), soft_wrap=True)
    counts: dict[str, int] = {}
    failed: list[tuple[str, Path | None]] = []
    for name in names:
        lab = Lab(bin_path, list(bin_args), store=store, mode=mode,
                  max_state_bytes=max_state_bytes, seed_offset=seed_offset)
        start = _time.perf_counter()
        with out.status(f"{name} ...", spinner="dots"):
            try:
                detail, status = SCENARIOS[name](lab), "pass"
            except RunError as exc:
                _error(f"{exc}")
                sys.exit(2)
            except LabSkip as exc:
                detail, status = f"skipped: this check {exc}", "skip"
            except AssertionError as exc:
                detail, status = str(exc).splitlines()[0], "fail"
        counts[status] = counts.get(status, 0) + 1
        mark = SCENARIO_MARKS[status]
        run_dir = lab.runs[-1].run_dir if lab.runs else None
        if status == "fail":
            failed.append((name, run_dir))
        out.print(f"{mark} {name:<48} {_time.perf_counter() - start:6.1f} s  {detail}",
                  highlight=False, soft_wrap=True)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    out.print(f"[bold]{len(names)} scenarios[/]: {summary}")
    for name, run_dir in failed[:1]:
        if run_dir is not None:
            out.print(f"first failure ({name}): its last run is {run_dir}; "
                      f"`distlab analyze raft {run_dir}` and the node logs there say more",
                      highlight=False, soft_wrap=True)
    sys.exit(1 if failed else 0)


cli.add_command(analyze)


def main() -> None:
    """Console entry point; pins string hashing so node code iterating sets replays exactly."""
    if (
        len(sys.argv) > 1
        and sys.argv[1] in SIM_COMMANDS
        and os.environ.get("PYTHONHASHSEED") != "0"
    ):
        env = dict(os.environ, PYTHONHASHSEED="0")
        os.execve(sys.executable, [sys.executable, "-m", "distlab", *sys.argv[1:]], env)
    cli(prog_name="distlab")
