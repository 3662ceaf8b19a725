"""`distlab mr` runs a MapReduce job (6.824's lab 1) with distlab's coordinator and
workers; `distlab mr-test` runs test-mr.sh's seven checks on any implementation."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click

from distlab.cli.shared import CliError, as_cli_error, out
from distlab.systems.mapreduce.mrtest import CHECKS as _CHECK_NAMES


@click.command("mr")
@click.argument("app")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--workers", "-w", default=3, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (one that dies mid-job is replaced).")
@click.option("--reduce", "-r", "n_reduce", default=10, show_default=True, type=click.IntRange(1, 10000),
              help="Reduce tasks, hence output files mr-out-0 .. mr-out-(R-1).")
@click.option("--out", "-o", "out_dir", default="mr-output", show_default=True,
              type=click.Path(file_okay=False), help="Directory for the mr-out-* files.")
@click.option("--task-timeout", default=10.0, show_default=True, type=click.FloatRange(0.05),
              help="Seconds before a silent worker's task is given to another worker.")
@click.option("--time-scale", default=1.0, show_default=True, type=click.FloatRange(0.0),
              help="Multiply the timing apps' sleeps (crash, jobcount, mtiming, ...).")
@click.option("--time-limit", default=None, type=click.FloatRange(0.1),
              help="Give up (exit 1) if the job has not finished after this many seconds.")
@click.option("--keep-intermediate", is_flag=True, help="Keep the mr-X-Y files in --out.")
@click.option("--scheduler", default=None, metavar="dask|ADDRESS|local",
              help="Run the map and reduce tasks as Dask tasks (a cluster started here of "
                   "--workers, or a scheduler's address) or a local process pool, not with "
                   "the 6.824 coordinator: same output, no reassignment semantics.")
def mr(app: str, files: tuple[str, ...], workers: int, n_reduce: int, out_dir: str,
       task_timeout: float, time_scale: float, time_limit: float | None,
       keep_intermediate: bool, scheduler: str | None) -> None:
    """Run MapReduce application APP (wc, indexer, mtiming, rtiming, jobcount, early_exit,
    crash, nocrash; or a module path, or FILE.py with map_fn and reduce_fn) over FILES:
    a coordinator and --workers worker processes, outputs DIR/mr-out-* of `key value` lines."""
    from distlab.systems.mapreduce.apps import AppError, load
    from distlab.systems.mapreduce.job import JobError, run_job

    with as_cli_error(AppError):
        load(app)  # fail here, in one line, rather than in every worker
    directory = Path(out_dir)
    if directory.exists() and not directory.is_dir():
        raise CliError(f"--out {out_dir} is not a directory")
    if app.endswith(".py"):
        app = str(Path(app).resolve())  # the workers run in the output directory
    _exit_on_sigterm()
    if scheduler is not None:
        _mr_fanned(app, list(files), workers, n_reduce, directory, scheduler, time_scale,
                   keep_intermediate)
        return
    last_line = [time.monotonic()]

    with out.status(f"mr {app}: starting", spinner="dots") as spinner:

        def show(status: dict[str, Any]) -> None:
            text = (f"mr {app}: map {status['maps_done']}/{status['maps']}, reduce "
                    f"{status['reduces_done']}/{status['reduces']}, {status['reassigned']} "
                    "task(s) reassigned")
            spinner.update(text)  # drawn on a terminal; elsewhere a line every 5 s
            if not out.is_terminal and time.monotonic() - last_line[0] >= 5.0:
                last_line[0] = time.monotonic()
                out.print(text, highlight=False, soft_wrap=True)

        try:
            result = run_job(app, list(files), workers, n_reduce, directory, task_timeout,
                             time_scale, time_limit, show, keep_intermediate)
        except JobError as exc:
            out.print(f"[red]mr {app}[/]: {exc}", highlight=False, soft_wrap=True)
            sys.exit(1)
    status = result.status
    where = directory / "mr-out-*"
    out.print(f"[bold]mr {app}[/]: {len(files)} file(s), {workers} worker(s), {n_reduce} reduce "
              f"task(s) in {result.seconds:.1f} s; {status.get('map_runs', '?')} map and "
              f"{status.get('reduce_runs', '?')} reduce runs, {status.get('reassigned', 0)} task(s) "
              f"reassigned, {result.restarts} worker(s) replaced; output: {where}",
              highlight=False, soft_wrap=True)


def _mr_fanned(app: str, files: list[str], workers: int, n_reduce: int, directory: Path,
               scheduler: str, time_scale: float, keep_intermediate: bool) -> None:
    """`distlab mr --scheduler`: the tasks through distlab.fanout (Dask or a pool)."""
    from distlab.fanout import FanoutError, describe
    from distlab.systems.mapreduce.apps import AppError
    from distlab.systems.mapreduce.fanjob import TaskFailed, run_fanned

    with as_cli_error(AppError, FanoutError), out.status(f"mr {app}: on {describe(scheduler, workers)}",
                                                          spinner="dots"):
        try:
            result = run_fanned(app, files, n_reduce, directory, scheduler=scheduler,
                                workers=workers, time_scale=time_scale,
                                keep_intermediate=keep_intermediate)
        except TaskFailed as exc:  # as the coordinator's path reports a failing app
            out.print(f"[red]mr {app}[/]: {exc}", highlight=False, soft_wrap=True)
            sys.exit(1)
    out.print(f"[bold]mr {app}[/]: {len(files)} file(s), {result.map_runs} map and "
              f"{result.reduce_runs} reduce task(s) on {describe(scheduler, workers)} in "
              f"{result.seconds:.1f} s; output: {directory / 'mr-out-*'}",
              highlight=False, soft_wrap=True)


def _exit_on_sigterm() -> None:
    """A SIGTERM unwinds like an error, so the job's processes are killed on the way out."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def _command(text: str, option: str) -> list[str]:
    try:
        cmd = shlex.split(text)
    except ValueError as exc:
        raise CliError(f"{option} {text!r}: {exc}") from exc
    if not cmd:
        raise CliError(f"{option} is empty")
    if shutil.which(cmd[0]) is None:
        raise CliError(f"{option}: cannot find the program {cmd[0]!r}")
    # the checks run it in a directory of their own: paths relative to here must still work
    return [arg if (i == 0 and os.sep not in arg) or os.path.isabs(arg) or not os.path.exists(arg)
            else os.path.abspath(arg) for i, arg in enumerate(cmd)]


@click.command("mr-test")
@click.option("--coordinator", "coordinator", default=None, metavar="CMD",
              help="Command starting the coordinator; the input files are appended.")
@click.option("--worker", "worker", default=None, metavar="CMD",
              help="Command starting a worker; the application's name is appended.")
@click.option("--check", "-c", "checks", multiple=True, type=click.Choice(_CHECK_NAMES),
              help="Run only this check (repeatable); all seven by default.")
@click.option("--time-scale", default=1.0, show_default=True, type=click.FloatRange(0.0),
              help="Multiply the apps' sleeps (DISTLAB_MR_TIME_SCALE); 6.824's timings at 1.")
@click.option("--task-timeout", default=10.0, show_default=True, type=click.FloatRange(0.05),
              help="Passed as DISTLAB_MR_TASK_TIMEOUT, for a coordinator that reads it.")
@click.option("--check-timeout", default=180.0, show_default=True, type=click.FloatRange(1.0),
              help="Seconds a check may take before it fails.")
@click.option("--seed", default=1, show_default=True, type=int,
              help="Seed of the generated inputs and of the crash and jobcount apps' dice "
                   "(DISTLAB_MR_CRASH_SEED, if set, overrides it for the dice).")
def mr_test(coordinator: str | None, worker: str | None, checks: tuple[str, ...], time_scale: float,
            task_timeout: float, check_timeout: float, seed: int) -> None:
    """Run 6.824's seven MapReduce checks (test-mr.sh) on a coordinator and worker given
    as commands, in any language, or on distlab's own if both are omitted. Exit 0 when
    every check passes, 1 otherwise.

    \b
    Each check runs in a fresh directory: the coordinator gets the input files, each
    worker the app's name (wc, indexer, mtiming, rtiming, jobcount, early_exit, crash);
    outputs are read from mr-out-*. Environment given to both: DISTLAB_MR_SOCKET (a
    socket path they may use), DISTLAB_MR_TASK_TIMEOUT, DISTLAB_MR_TIME_SCALE,
    DISTLAB_MR_CRASH_SEED (so the crash check's crashes are the same on every run), and
    DISTLAB_MR_APP, a command running the apps for a worker in any language:
    `$DISTLAB_MR_APP APP map FILE` prints JSON lines ["key", "value"];
    `$DISTLAB_MR_APP APP reduce` reads such lines, prints `key value` lines."""
    from distlab.systems.mapreduce.mrtest import OWN_COORDINATOR, OWN_WORKER, Settings, run_checks

    if (coordinator is None) != (worker is None):
        raise CliError("give both --coordinator and --worker, or neither (distlab's own)")
    coord_cmd = _command(coordinator, "--coordinator") if coordinator else OWN_COORDINATOR
    worker_cmd = _command(worker, "--worker") if worker else OWN_WORKER
    names = list(checks) or list(_CHECK_NAMES)
    _exit_on_sigterm()
    what = f"{coordinator} / {worker}" if coordinator else "distlab's coordinator and worker"
    out.print(f"[bold]mr-test[/]: {len(names)} check(s) on {what}", highlight=False, soft_wrap=True)
    settings = Settings(time_scale=time_scale, task_timeout=task_timeout,
                        check_timeout=check_timeout, seed=seed)
    failed = 0
    with out.status("starting", spinner="dots") as spinner:
        for outcome in run_checks(coord_cmd, worker_cmd, names, settings,
                                  lambda name: spinner.update(f"{name} check running")):
            mark = "[green]PASS[/]" if outcome.passed else "[red]FAIL[/]"
            line = f"{mark} {outcome.name:<20} {outcome.seconds:6.1f} s"
            if not outcome.passed:
                failed += 1
                line += f"  {outcome.reason}"
            out.print(line, highlight=False, soft_wrap=True)
    out.print(f"[bold]{len(names)} check(s)[/]: {len(names) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
