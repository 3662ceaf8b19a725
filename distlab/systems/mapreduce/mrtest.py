"""The seven checks of 6.824's test-mr.sh, run against any MapReduce given as two
commands: the coordinator command gets the input files as arguments, the worker command
the application's name (wc, indexer, mtiming, rtiming, jobcount, early_exit, crash).
Every process runs in a fresh directory where outputs are expected as `mr-out-*`.

Each process gets DISTLAB_MR_SOCKET (a socket path both may use), DISTLAB_MR_TASK_TIMEOUT
(the task timeout a coordinator may honour), DISTLAB_MR_TIME_SCALE (how the apps' sleeps
are scaled), DISTLAB_MR_APP (a command that runs the apps for workers in any language:
see `distlab.systems.mapreduce.app`) and DISTLAB_MR_CRASH_SEED (the seed of the crash and
jobcount apps' dice: the check's seed, so a check's crashes are the same on every run). Every process is started in its own session and
killed with it at the end of its check, whatever happened."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from distlab.systems.mapreduce import sequential
from distlab.systems.mapreduce.apps import load
from distlab.systems.mapreduce.inputs import write_inputs

CHECKS = ("wc", "indexer", "map-parallelism", "reduce-parallelism", "job-count", "early-exit", "crash")

OWN_COORDINATOR = [sys.executable, "-m", "distlab.systems.mapreduce.coordinator"]
OWN_WORKER = [sys.executable, "-m", "distlab.systems.mapreduce.worker"]


@dataclass
class Settings:
    time_scale: float = 1.0
    task_timeout: float = 10.0
    check_timeout: float = 180.0
    seed: int = 1
    words: int = 1500
    crash_seed: str | None = None
    """The apps' dice (DISTLAB_MR_CRASH_SEED): None takes the caller's DISTLAB_MR_CRASH_SEED
    if set, else `seed`; graders pass it, so no stray environment changes a verdict."""


@dataclass
class Outcome:
    name: str
    passed: bool
    reason: str
    seconds: float


class CheckFailed(Exception):
    """The check's verdict: FAIL, for the reason given (a sentence for the learner)."""


@dataclass
class _Run:
    """The processes of one check, all in `cwd`; `close` kills whatever still runs."""

    coordinator_cmd: list[str]
    worker_cmd: list[str]
    cwd: Path
    env: dict[str, str]
    deadline: float
    limit: float
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    coordinator: subprocess.Popen[bytes] | None = None

    def _start(self, cmd: list[str], log: str) -> subprocess.Popen[bytes]:
        with open(self.cwd / log, "ab") as f:
            try:
                proc = subprocess.Popen(cmd, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                        stdout=f, stderr=f, start_new_session=True)
            except OSError as exc:
                raise CheckFailed(f"cannot start {' '.join(cmd)}: {exc}") from exc
        self.procs.append(proc)
        return proc

    def start_coordinator(self, files: list[str]) -> None:
        self.coordinator = self._start(self.coordinator_cmd + files, "log-coordinator.txt")
        socket = self.cwd / self.env["DISTLAB_MR_SOCKET"]
        until = time.monotonic() + 1.0  # as test-mr.sh's `sleep 1`, cut short by the socket
        while time.monotonic() < until and not socket.exists() and self.coordinator.poll() is None:
            time.sleep(0.02)

    def start_worker(self, app: str) -> subprocess.Popen[bytes]:
        return self._start(self.worker_cmd + [app], f"log-worker-{len(self.procs)}.txt")

    def wait(self, procs: list[subprocess.Popen[bytes]], what: str) -> None:
        while any(p.poll() is None for p in procs):
            if time.monotonic() > self.deadline:
                raise CheckFailed(f"{what} did not exit within {self.limit:g} s"
                                  f"{self._coordinator_note()}")
            time.sleep(0.02)

    def wait_coordinator(self) -> None:
        assert self.coordinator is not None
        self.wait([self.coordinator], "the coordinator")

    def wait_all(self) -> None:
        self.wait(self.procs, "a worker or the coordinator")

    def _coordinator_note(self) -> str:
        if self.coordinator is not None and self.coordinator.poll() is None:
            return " (the coordinator was still running: is some task never finished?)"
        return " (the coordinator had exited: a worker must exit once the job is over)"

    def exit_note(self) -> str:
        """Why the coordinator stopped, if it failed: its status and last log line."""
        if self.coordinator is None or self.coordinator.returncode in (None, 0):
            return ""
        lines = (self.cwd / "log-coordinator.txt").read_text(errors="replace").strip().splitlines()
        return (f" (the coordinator exited with status {self.coordinator.returncode}"
                + (f": {lines[-1][:200]}" if lines else "") + ")")

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    pass
            proc.wait()

    def output(self) -> list[str]:
        """All mr-out-* lines, non-empty, sorted (test-mr.sh's `sort mr-out* | grep .`)."""
        lines: list[str] = []
        for path in sorted(self.cwd.glob("mr-out*")):
            if path.is_file():
                text = path.read_text(encoding="utf-8", errors="surrogateescape")
                lines.extend(line for line in text.splitlines() if line.strip())
        return sorted(lines)


def difference(expected: list[str], got: list[str], what: str) -> str | None:
    """None if equal, else a sentence naming the first difference."""
    if expected == got:
        return None
    if not got:
        return f"no output lines (expected {len(expected)}, as {what}): were mr-out-* files written?"
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    parts = [f"the output has {len(got)} lines where {what} has {len(expected)}"]
    if missing:
        parts.append(f"{len(missing)} expected lines are missing, first {missing[0]!r}")
    if extra:
        parts.append(f"{len(extra)} lines are unexpected, first {extra[0]!r}")
    if not missing and not extra:
        parts.append("some lines appear more often than they should (a key in two mr-out files?)")
    return "; ".join(parts)


def _sequential(app: str, files: list[str]) -> list[str]:
    return sorted(line.rstrip("\n") for line in sequential.run(load(app), files) if line.strip())


def _check_wc(run: _Run, files: list[str]) -> None:
    run.start_coordinator(files)
    for _ in range(3):
        run.start_worker("wc")
    run.wait_coordinator()  # workers exit only after the job: its end is the coordinator's
    reason = difference(_sequential("wc", files), run.output(), "the sequential wc")
    run.wait_all()
    if reason:
        raise CheckFailed(reason)


def _check_indexer(run: _Run, files: list[str]) -> None:
    run.start_coordinator(files)
    run.start_worker("indexer")
    run.wait([run.start_worker("indexer")], "the second worker")
    reason = difference(_sequential("indexer", files), run.output(), "the sequential indexer")
    run.wait_all()
    if reason:
        raise CheckFailed(reason)


def _check_map_parallelism(run: _Run, files: list[str]) -> None:
    run.start_coordinator(files)
    run.start_worker("mtiming")
    run.wait([run.start_worker("mtiming")], "the second worker")
    lines = run.output()
    run.wait_all()
    workers = sum(line.startswith("times-") for line in lines)
    if workers != 2:
        raise CheckFailed(f"map tasks ran in {workers} workers rather than 2 (the output has "
                          f"{workers} times-PID lines)")
    if not any(line.startswith("parallel-") and "2" in line.split()[1:] for line in lines):
        raise CheckFailed("no map task ever ran while the other worker was mapping: "
                          "the two workers did not map in parallel")


def _check_reduce_parallelism(run: _Run, files: list[str]) -> None:
    run.start_coordinator(files)
    run.start_worker("rtiming")
    run.wait([run.start_worker("rtiming")], "the second worker")
    lines = run.output()
    run.wait_all()
    parallel = sum(1 for line in lines if len(line) > 2 and line[0].islower() and line[1:] == " 2")
    if parallel < 2:
        raise CheckFailed(f"only {parallel} reduce task(s) ran while the other worker was reducing "
                          "(at least 2 needed): the two workers did not reduce in parallel")


def _check_job_count(run: _Run, files: list[str]) -> None:
    run.start_coordinator(files)
    run.start_worker("jobcount")
    run.wait([run.start_worker("jobcount")], "the second worker")
    run.start_worker("jobcount")  # late workers, as test-mr.sh's: they must find nothing to redo
    run.wait([run.start_worker("jobcount")], "the fourth worker")
    lines = run.output()
    run.wait_all()
    values = [line.split()[1] for line in lines if len(line.split()) == 2]
    if len(lines) != 1 or values != [str(len(files))]:
        got = values[0] if len(values) == 1 else f"output {lines[:3]!r}"
        raise CheckFailed(f"map tasks ran {got} times for {len(files)} input files: with no "
                          "failure, each map task must run exactly once")


def _check_early_exit(run: _Run, files: list[str]) -> None:
    run.start_coordinator(files)
    for _ in range(3):
        run.start_worker("early_exit")
    while all(p.poll() is None for p in run.procs):
        if time.monotonic() > run.deadline:
            raise CheckFailed(f"no process exited within {run.limit:g} s")
        time.sleep(0.01)
    first = next(p for p in run.procs if p.poll() is not None)
    who = "the coordinator" if first is run.coordinator else "a worker"
    initial = run.output()
    run.wait_all()
    final = run.output()
    if initial != final:
        raise CheckFailed(f"the output changed after {who} exited ({len(initial)} lines then, "
                          f"{len(final)} at the end): {who} exited before every output file was "
                          "written")
    if not final:
        raise CheckFailed("the job wrote no output")


def _check_crash(run: _Run, files: list[str]) -> None:
    expected = _sequential("nocrash", files)
    run.start_coordinator(files)
    assert run.coordinator is not None
    slots = [run.start_worker("crash") for _ in range(4)]
    restart_at: dict[int, float] = {}
    while run.coordinator.poll() is None:  # keep four workers going while the job runs
        if time.monotonic() > run.deadline:
            raise CheckFailed(f"the job did not finish within {run.limit:g} s while workers "
                              "crashed: is a crashed worker's task ever given to another worker?")
        now = time.monotonic()
        for i, proc in enumerate(slots):
            if proc.poll() is not None:
                if restart_at.setdefault(i, now + 0.2) <= now:
                    del restart_at[i]
                    slots[i] = run.start_worker("crash")
        time.sleep(0.02)
    run.close()  # the job is over: a worker still stalled in a task is not waited for
    reason = difference(expected, run.output(), "the sequential nocrash")
    if reason:
        raise CheckFailed(reason)


_CHECK_FUNCTIONS: dict[str, Callable[[_Run, list[str]], None]] = {
    "wc": _check_wc, "indexer": _check_indexer, "map-parallelism": _check_map_parallelism,
    "reduce-parallelism": _check_reduce_parallelism, "job-count": _check_job_count,
    "early-exit": _check_early_exit, "crash": _check_crash,
}


def run_checks(coordinator: list[str], worker: list[str], names: list[str] | None = None,
               settings: Settings | None = None,
               on_start: Callable[[str], None] | None = None) -> Iterator[Outcome]:
    """Run the named checks (all by default) in order, each in a fresh directory."""
    settings = settings or Settings()
    base = Path(tempfile.mkdtemp(prefix="distlab-mr-"))
    try:
        files = write_inputs(base / "inputs", settings.seed, settings.words)
        env = {**os.environ, "DISTLAB_MR_SOCKET": "mr-socket",
               "DISTLAB_MR_TASK_TIMEOUT": str(settings.task_timeout),
               "DISTLAB_MR_TIME_SCALE": str(settings.time_scale),
               "DISTLAB_MR_APP": f"{sys.executable} -m distlab.systems.mapreduce.app"}
        env["DISTLAB_MR_CRASH_SEED"] = (settings.crash_seed if settings.crash_seed is not None
                                        else os.environ.get("DISTLAB_MR_CRASH_SEED") or str(settings.seed))
        env.pop("DISTLAB_MR_WORKER_PID", None)
        # each process hashes strings its own way, as separate machines would: a worker that
        # partitions with hash() must be caught even under `distlab`'s pinned hash seed
        env.pop("PYTHONHASHSEED", None)
        for name in names or list(CHECKS):
            if on_start:
                on_start(name)
            cwd = base / name
            cwd.mkdir()
            started = time.monotonic()
            run = _Run(coordinator, worker, cwd, env, started + settings.check_timeout,
                       settings.check_timeout)
            try:
                _CHECK_FUNCTIONS[name](run, files)
                passed, reason = True, ""
            except CheckFailed as exc:
                passed, reason = False, str(exc) + run.exit_note()
            finally:
                run.close()
            yield Outcome(name, passed, reason, time.monotonic() - started)
    finally:
        shutil.rmtree(base, ignore_errors=True)
