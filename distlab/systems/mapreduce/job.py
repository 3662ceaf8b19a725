"""Run one MapReduce job with distlab's coordinator and N workers, as OS processes in the
output directory: what `distlab mr` does. A worker that dies while the job runs is
replaced (the crash app kills its worker a third of the time), and every process is killed
at the end whatever happened."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distlab.systems.mapreduce.transport import CoordinatorGone, call
from distlab.systems.mapreduce.worker import APP_FAILED

_OWN_FILES = re.compile(r"^(mr-out-\d+|mr-\d+-\d+|mr-worker-.*|mr-socket|\.mr-tmp-.*|\.mr-crash-.*)$")


class JobError(Exception):
    """The job could not run to the end (the message says why, for the user)."""


@dataclass
class JobResult:
    outputs: list[Path]
    seconds: float
    status: dict[str, Any]
    restarts: int


def clean(out_dir: Path) -> None:
    """Remove what an earlier job left in `out_dir` (outputs, intermediates, probes):
    stale mr-out files of a job with more reduce tasks would mix into this one's."""
    for path in out_dir.iterdir():
        if _OWN_FILES.match(path.name) and (path.is_file() or path.is_socket()):
            path.unlink()


def run_job(app: str, files: list[str], workers: int, n_reduce: int, out_dir: Path,
            task_timeout: float = 10.0, time_scale: float = 1.0, time_limit: float | None = None,
            on_status: Callable[[dict[str, Any]], None] | None = None,
            keep_intermediate: bool = False) -> JobResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    clean(out_dir)
    env = {**os.environ, "DISTLAB_MR_SOCKET": "mr-socket", "DISTLAB_MR_TIME_SCALE": str(time_scale)}
    env.pop("DISTLAB_MR_WORKER_PID", None)
    # the processes run in out_dir; an app given as a module path is found from here
    env["PYTHONPATH"] = os.pathsep.join(p for p in (os.getcwd(), env.get("PYTHONPATH")) if p)
    procs: list[subprocess.Popen[bytes]] = []

    logs: dict[int, Any] = {}

    def start(cmd: list[str], stdout: int | None = None) -> subprocess.Popen[bytes]:
        log = tempfile.TemporaryFile()
        proc = subprocess.Popen(cmd, cwd=out_dir, env=env, stdin=subprocess.DEVNULL,
                                stdout=stdout, stderr=log, start_new_session=True)
        procs.append(proc)
        logs[proc.pid] = log
        return proc

    def last_error(proc: subprocess.Popen[bytes]) -> str:
        log = logs[proc.pid]
        log.seek(0)
        lines = log.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit status {proc.returncode}"

    started = time.monotonic()
    status: dict[str, Any] = {}
    restarts = 0
    try:
        coordinator = start([sys.executable, "-m", "distlab.systems.mapreduce.coordinator",
                             *[os.path.abspath(f) for f in files], "--reduce", str(n_reduce),
                             "--task-timeout", str(task_timeout)], stdout=subprocess.PIPE)
        socket = out_dir / "mr-socket"
        while not socket.exists() and coordinator.poll() is None:
            time.sleep(0.02)
        worker_cmd = [sys.executable, "-m", "distlab.systems.mapreduce.worker", app]
        slots = [start(worker_cmd) for _ in range(workers)]
        last_poll = 0.0
        while coordinator.poll() is None:
            now = time.monotonic()
            if time_limit is not None and now - started > time_limit:
                raise JobError(f"the job did not finish within {time_limit:g} s")
            for i, proc in enumerate(slots):
                if proc.poll() == APP_FAILED:
                    raise JobError(f"a worker stopped: {last_error(proc).removeprefix('error: ')}")
                if proc.poll() not in (None, 0):  # died mid-job: replace it
                    slots[i] = start(worker_cmd)
                    restarts += 1
            if on_status and now - last_poll >= 0.2:
                last_poll = now
                try:
                    status = call(str(socket), "status", {}, timeout=1.0)
                    on_status(status)
                except CoordinatorGone:
                    pass
            time.sleep(0.02)
        assert coordinator.stdout is not None
        last = coordinator.stdout.read().decode(errors="replace").strip().splitlines()
        if coordinator.returncode != 0:
            raise JobError(f"the coordinator stopped: {last_error(coordinator)}")
        if last:
            status = json.loads(last[-1])
    finally:
        for proc in procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    pass
            proc.wait()
            if proc.stdout:
                proc.stdout.close()
        for log in logs.values():
            log.close()
    if not keep_intermediate:
        for path in out_dir.iterdir():
            if re.match(r"^(mr-\d+-\d+|mr-worker-.*|\.mr-tmp-.*|\.mr-crash-.*)$", path.name):
                path.unlink(missing_ok=True)
    outputs = sorted(out_dir.glob("mr-out-*"), key=lambda p: int(p.name.rsplit("-", 1)[1]))
    return JobResult(outputs, time.monotonic() - started, status, restarts)
