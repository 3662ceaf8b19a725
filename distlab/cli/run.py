"""`distlab test`, `replay` and `demo`: run a workload against nodes, and the summary a run
ends with."""

from __future__ import annotations

import secrets
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from distlab.cli.shared import (
    CliError,
    as_cli_error,
    bin_options,
    err,
    error_line,
    mode_option,
    out,
    pins_hash,
    run_option,
    store_option,
    workload_options,
)
from distlab.examples import example_path
from distlab.nemesis import KINDS, SCHEDULES
from distlab.options import RunError, TestOptions, resolve_nodes
from distlab.report.node_errors import summary_rows
from distlab.report.summary import closing_line, why_rows, workload_rows
from distlab.runner import RunResult, run_test
from distlab.runstore import prune
from distlab.workloads.base import workload_names


def _verdict_text(valid: Any) -> str:
    return {True: "[bold green]VALID[/]", False: "[bold red]INVALID[/]"}.get(valid, "[bold yellow]UNKNOWN[/]")


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
        f"msgs-per-op {net['msgs_per_op']:.2f}  (server {net['server_msgs']}, client {net['client_msgs']}, "
        f"dropped {net['dropped']}" + (f", lost {net['lost']}" if net.get("lost") else "") + ")",
    )
    if net.get("delay"):
        table.add_row("network delay", net["delay"])
    if net.get("kernel"):  # --mode net: what the kernel did to node-to-node packets
        kern = net["kernel"]
        total = {k: sum(per.get(k, 0) for per in kern.values()) for per0 in kern.values() for k in per0}
        shaped = "".join(f"; {label} {total[key]}" for key, label in (
            ("packets_delayed", "delayed"), ("packets_reordered", "sent at once (reordered)"),
            ("packets_duplicated", "duplicated")) if key in total)
        table.add_row("kernel", f"packets dropped: partition {total['packets_dropped_partition']}, "
                                f"loss {total['packets_dropped_loss']}; TCP retransmits {total['tcp_retransmits']}{shaped}")
    if lat:
        text = "  ".join(f"{name} {lat[q]:g}" for name, q in (("min", "0.0"), ("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99"), ("max", "1.0")))
        if r.get("mode", "sim") == "sim":  # say what a simulated millisecond is made of
            text += "  (simulated: network delay and timers only, handlers take no time)"
        table.add_row("latency ms", text)
    if r.get("nemesis_ops"):
        table.add_row("nemesis", ", ".join(f"{k} {v}" for k, v in r["nemesis_ops"].items()))
    if r.get("fail_points"):
        crashes = r["fail_points"]["crashes"]
        shown = ", ".join(f"{c['node']} at {c['t']:.2f} s" + (f" ({c['point']})" if c["point"] else "")
                          for c in crashes[:5])
        table.add_row("fail points", f"{'; '.join(r['fail_points']['config'])}: "
                      f"{len(crashes)} panic crash{'es' if len(crashes) != 1 else ''}"
                      + (f": {shown}" if shown else "") + (", ..." if len(crashes) > 5 else ""))
    for line in r.get("warnings", []):
        table.add_row("[yellow]warning[/]", Text(line))
    if not r.get("error"):
        rows = workload_rows(r["workload"])
        table.add_row(f"workload {result.run_dir.parent.name}", "" if rows else "nothing to report")
        for label, text in rows:
            table.add_row(f"  {label}", Text(text))
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
    for line in why_rows(r):
        table.add_row("[bold red]why[/]", Text(line, style="red"))
    verdict = Text.from_markup(_verdict_text(r["valid"]))
    if r.get("verdict_note"):  # client requests failed because the node's code broke: never looks clean
        verdict.append(("  — but " if r["valid"] is True else "  — ") + r["verdict_note"], style="red")
    table.add_row("verdict", verdict)
    table.add_row("seed", str(r["seed"]))
    table.add_row("run dir", str(result.run_dir))
    report = result.run_dir / "report.html"
    if report.is_file():
        table.add_row("report", str(report))
    console.print(table)


def _write_report(result: RunResult, quiet: bool = False) -> None:
    """report.html, plots and the Lamport diagram for a finished run. A report that cannot
    be written is a warning: the run, its verdict and its files stand without it."""
    from distlab.report.build import write_report
    from distlab.report.rundir import ReportError

    if quiet or not err.is_terminal:
        step = None
        status = None
    else:
        status = err.status("writing the report")
        status.start()

        def step(what: str) -> None:
            status.update(f"report: {what}")
    try:
        write_report(result.run_dir, step)
    except (ReportError, OSError) as exc:
        error_line(f"warning: no report for {result.run_dir}: {exc}")
    finally:
        if status is not None:
            status.stop()


def _error_after_summary(result: RunResult) -> None:
    """A run that could not finish says why on stderr too: one line, for scripts and eyes."""
    if result.results.get("error"):
        error_line(f"{result.results['error']} (run dir {result.run_dir})")


def _run_with_progress(opts: TestOptions, quiet: bool = False) -> RunResult:
    if quiet or not err.is_terminal:
        return run_test(opts)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn  # a terminal only

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


@pins_hash
@click.command(context_settings={"ignore_unknown_options": False})
@run_option("-w", "--workload", type=click.Choice(workload_names()),
            help="What clients do and what is checked (Maelstrom's default: lin-kv).")
@bin_options("The node: a Python file using distlab's Node.")
@run_option("--node-count", type=click.IntRange(1, 1000),
            help="Nodes n0..n{N-1}; overrides --nodes. Neither given: Maelstrom's 5 nodes, n1..n5.")
@run_option("--nodes", metavar="NODE_LIST", help="Comma-separated node ids, e.g. n1,n2,n3.")
@click.option("-n", "--node", multiple=True, metavar="ID", help="One node id (repeatable); added after --nodes.")
@click.option("--nodes-file", default=None, type=click.Path(dir_okay=False), help="Node ids, one per line.")
@run_option("--time-limit", type=float, help="Seconds of client operations.")
@run_option("--rate", type=click.FloatRange(0),
            help="Total operations per second; 0: none (faults and final reads only), as in Maelstrom.")
@run_option("--concurrency", help="Client workers; a suffix n multiplies by node count.")
@run_option("--latency", type=click.FloatRange(0),
            help="Mean server-to-server latency, ms. Not given: the simulator adds a small random delay "
                 "(exponential, mean 0.25 ms) so nodes interleave as processes do; 0: none at all.")
@run_option("--latency-dist", type=click.Choice(["constant", "uniform", "exponential"]))
@run_option("--loss", type=click.FloatRange(0, 1), help="Baseline message loss probability.")
@run_option("--duplication", type=click.FloatRange(0, 1), help="Baseline duplication probability.")
@run_option("--reorder", type=click.FloatRange(0, 1),
            help="--mode net with --latency: the share of packets sent at once, overtaking the delayed rest (netem's reorder).")
@run_option("--nemesis", help=f"Comma-separated faults: {','.join(KINDS)}.")
@run_option("--nemesis-interval", type=float,
            help="Mean seconds between fault changes (each gap uniform in 0..2x, the first change at the start).")
@run_option("--nemesis-schedule", type=click.Choice(SCHEDULES),
            help="stagger: Jepsen's and Maelstrom's; fixed: a change every interval exactly, from one interval in.")
@run_option("--availability", help="'total' or a fraction of operations that must succeed.")
@workload_options()  # --topology, --key-count, ...: each workload's Params, by name
@run_option("--op-timeout", type=float, help="Seconds a client waits for a reply.")
@run_option("--seed", type=int, help="Run seed (random if omitted; always printed).")
@mode_option()
@run_option("--max-memory-mb", type=click.IntRange(16), help="Process mode: data size limit per node.")
@run_option("--max-open-files", type=click.IntRange(16), help="Process mode: open files per node.")
@run_option("--max-cpu-seconds", type=click.IntRange(1), help="Process mode: CPU time per node process.")
@run_option("--log-stderr", is_flag=True, help="Copy node logs to stderr as they are written.")
@run_option("--log-net-send", is_flag=True, help="Log each message to stderr as it is sent (all are in messages.jsonl).")
@run_option("--log-net-recv", is_flag=True, help="Log each message to stderr as it is received.")
@run_option("--no-trace", is_flag=True, help="Write no messages.jsonl (long campaigns): message counts, verdicts and replay still work.")
@run_option("--metrics-addr", metavar="HOST:PORT",
            help="Process and net modes: serve Prometheus metrics on http://HOST:PORT/metrics during the run "
                 "(every run writes metrics.prom).")
@click.option("--fail", "fail_specs", multiple=True, metavar="[NODE/]NAME=ACTIONS",
              help="A fail point for the run (repeatable), e.g. 'n2/raft::before_apply=1*panic': "
                   "in the simulator a panic crashes that node (restarted 1 s later); p% draws "
                   "follow the seed. Names: distlab.fail.POINTS.")
@click.option("--test-count", default=1, show_default=True, type=click.IntRange(1), help="Runs, with seeds seed, seed+1, ...")
@store_option()
@click.option("--store-keep", type=click.IntRange(1), default=None,
              help="After each run, delete all but the newest N run directories in the store.")
@click.option("--no-report", is_flag=True,
              help="Write no report.html, plots or diagram (`distlab report RUN_DIR` writes them later).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def test(bin_path: str, bin_args: tuple[str, ...], test_count: int, quiet: bool, store_keep: int | None,
         no_report: bool, **kw: Any) -> None:
    """Run a workload against a cluster of nodes, under faults, and check the history."""
    seed = kw.pop("seed")
    with as_cli_error(RunError):
        kw["nodes"] = resolve_nodes(kw.pop("node_count"), kw["nodes"], kw.pop("node"), kw.pop("nodes_file"))
    if seed is None:
        seed = secrets.randbelow(2**31)
    kw["fail"] = list(kw.pop("fail_specs"))  # repeatable, so not a run_option
    opts_kw = dict(kw, bin=bin_path, bin_args=list(bin_args))
    results = []
    for i in range(test_count):
        opts = TestOptions(seed=seed + i, **opts_kw)
        with as_cli_error(RunError):
            result = _run_with_progress(opts, quiet)
        if not no_report:
            _write_report(result, quiet)
        print_summary(result)
        _error_after_summary(result)
        results.append(result)
        if store_keep is not None:
            pruned = prune(opts.store, store_keep, protect=result.run_dir)
            if pruned:
                out.print(f"[dim]--store-keep {store_keep}: deleted {len(pruned)} older run "
                          f"director{'y' if len(pruned) == 1 else 'ies'} from {opts.store}[/]", highlight=False)
    closing = closing_line([(r.results["seed"], r.valid) for r in results])
    if closing:
        out.print(closing, style="bold red" if any(r.valid is not True for r in results) else "bold green",
                  highlight=False)
    sys.exit(_exit_code(results))


@pins_hash
@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--keep", is_flag=True, help="Keep the replay's own run directory.")
def replay(run_dir: str, keep: bool) -> None:
    """Re-run a simulated run from its config and compare the trace hash."""
    src = Path(run_dir)
    incomplete = f"{run_dir} is not a complete run directory: "
    with as_cli_error(OSError, KeyError, TypeError, prefix=incomplete):
        with as_cli_error(orjson.JSONDecodeError, prefix=f"{incomplete}config.json is not JSON: "):
            config = orjson.loads((src / "config.json").read_bytes())
        with as_cli_error(orjson.JSONDecodeError, prefix=f"{incomplete}results.json is not JSON: "):
            recorded = orjson.loads((src / "results.json").read_bytes())["trace_hash"]
        if not isinstance(config, dict):
            raise TypeError("config.json holds no options object")
    config.pop("bin_sha256", None)
    if config.get("mode") != "sim":
        raise CliError(f"{run_dir} ran real processes ({config.get('mode')} mode); only simulated runs replay")
    store = tempfile.mkdtemp(prefix="distlab-replay-")
    config["store"] = store
    try:
        with as_cli_error(RunError, TypeError, prefix=f"cannot replay {run_dir}: "):
            opts = TestOptions(**config)
            result = run_test(opts)
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


@pins_hash
@click.command()
@store_option()
@click.option("--seed", default=1, show_default=True, type=int)
def demo(store: str, seed: int) -> None:
    """A tour: a Raft key/value store on 5 simulated nodes under partitions and kills, then a
    key/value proxy over lww-kv caught as not linearizable, each with its report."""
    from distlab import systems

    kvraft = Path(systems.__file__).parent / "kvraft" / "node.py"
    tour = [
        ("1/2  A Raft key/value store (distlab/systems/kvraft) on 5 simulated nodes; partitions "
         "and kills every 2 s", True,
         TestOptions(workload="lin-kv", bin=str(kvraft), node_count=5, concurrency="2n", time_limit=20, rate=50,
                     nemesis=["partition", "kill"], nemesis_interval=2, seed=seed, store=store)),
        ("2/2  A lin-kv node that forwards every request to lww-kv: fast, always available, "
         "and not linearizable", False,
         TestOptions(workload="lin-kv", bin=str(example_path("lin-kv-proxy")), bin_args=["lww-kv"], node_count=3,
                     time_limit=10, rate=50, seed=seed, store=store)),
    ]
    results: list[tuple[RunResult, bool]] = []
    for title, expect_valid, opts in tour:
        out.print(f"\n[bold]{title}[/]", highlight=False)
        with as_cli_error(RunError):
            result = _run_with_progress(opts)
        _write_report(result)
        print_summary(result)
        _error_after_summary(result)
        results.append((result, expect_valid))
    (raft, raft_ok), (proxy, proxy_ok) = results
    out.print("\n[bold]What happened[/]", highlight=False)
    safety = raft.results.get("raft_safety") or {}
    out.print(f"  the Raft store stayed linearizable through {safety.get('elections', '?')} elections and "
              f"{raft.results.get('nemesis_ops', {}).get('start-kill', 0)} rounds of kills"
              if raft.valid is True else "  the Raft store was NOT linearizable: see its report", highlight=False)
    why = why_rows(proxy.results)
    out.print(f"  the proxy was caught: {why[0]}" if proxy.valid is False and why
              else "  the proxy was not caught this time: its stale reads did not show", highlight=False)
    out.print(f"  reports:  {raft.run_dir / 'report.html'}\n            {proxy.run_dir / 'report.html'}",
              highlight=False, soft_wrap=True)
    out.print(f"  browse every run:  distlab serve --store {store}", highlight=False, soft_wrap=True)
    expected = all((r.valid is True) == ok for r, ok in results)
    sys.exit(0 if expected else 1)
