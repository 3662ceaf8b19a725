"""MapReduce (6.824 lab 1): the seven test-mr checks on distlab's coordinator and workers,
the same checks catching broken implementations through `distlab mr-test`, a worker that
runs the apps through the any-language runner, and `distlab mr` itself.

Inputs are generated from a fixed seed; the apps' sleeps run at a fifth of 6.824's and
tasks are reassigned after 2 s, so the whole file takes well under a minute."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from distlab.systems.mapreduce import sequential
from distlab.systems.mapreduce.apps import APP_NAMES, AppError, letter_runs, load
from distlab.systems.mapreduce.coordinator import Coordinator
from distlab.systems.mapreduce.files import ihash
from distlab.systems.mapreduce.inputs import write_inputs
from distlab.systems.mapreduce.mrtest import (
    CHECKS,
    OWN_COORDINATOR,
    OWN_WORKER,
    Settings,
    difference,
    run_checks,
)

FAST = Settings(time_scale=0.2, task_timeout=2.0, check_timeout=40.0)
PROC = Path("/proc/self/environ").exists()
"""Linux: the leak check reads the processes' environments there."""
FAST_FLAGS = ["--time-scale", "0.2", "--task-timeout", "2"]


def distlab(*args: str, cwd: Path | None = None, timeout: float = 60.0,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI; on a timeout, SIGTERM it so that it kills its job's processes."""
    proc = subprocess.Popen([sys.executable, "-m", "distlab", *args], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})})
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=10)
        pytest.fail(f"distlab {' '.join(args)} did not finish in {timeout} s:\n{stdout}{stderr}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


# --- the seven checks, on distlab's own implementation --------------------------------

FASTER = Settings(time_scale=0.1, task_timeout=1.0, check_timeout=40.0)
"""For crash: stalls of up to 1 s, crashed tasks given out again after 1 s."""


@pytest.mark.parametrize("check", CHECKS)
def test_distlab_mapreduce_passes(check: str) -> None:
    [outcome] = run_checks(OWN_COORDINATOR, OWN_WORKER, [check], FASTER if check == "crash" else FAST)
    assert outcome.passed, outcome.reason


# --- the checks catch broken implementations --------------------------------------------

def _lines(stdout: str, mark: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith(mark)]


def test_mr_test_on_own_implementation_prints_one_pass_line_per_check() -> None:
    proc = distlab("mr-test", "-c", "wc", "-c", "indexer", *FAST_FLAGS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [line.split()[1] for line in _lines(proc.stdout, "PASS")] == ["wc", "indexer"]
    assert not _lines(proc.stdout, "FAIL")


def _own(module: str, *extra: str) -> str:
    return " ".join([sys.executable, "-m", f"distlab.systems.mapreduce.{module}", *extra])


def test_a_coordinator_that_never_reassigns_fails_the_crash_check_and_leaves_no_process() -> None:
    """The check fails by timing out, and still kills everything it started."""
    token = f"{os.getpid()}-{time.monotonic_ns()}"
    if PROC:
        probe = subprocess.Popen(["sleep", "30"], env={**os.environ, "MR_TEST_TOKEN": token})
        try:  # the leak detector sees a process given the token (once it has exec'd:
            # until then /proc shows the environment it was forked with)
            seen: set[int] = set()
            for _ in range(500):
                seen = _processes_with(f"MR_TEST_TOKEN={token}")
                if seen:
                    break
                time.sleep(0.01)
            assert seen == {probe.pid}
        finally:
            probe.kill()
            probe.wait()
    proc = distlab("mr-test", "--coordinator", _own("coordinator", "--bug", "never-reassign"),
                   "--worker", _own("worker"), "-c", "crash", "--check-timeout", "4",
                   "--time-scale", "0.1", "--task-timeout", "1",
                   env={"MR_TEST_TOKEN": token, "DISTLAB_MR_CRASH_SEED": "4"})  # seed 4: the first task crashes
    assert proc.returncode == 1, proc.stdout + proc.stderr
    [fail] = _lines(proc.stdout, "FAIL")
    assert "crash" in fail and "did not finish within 4 s" in fail and "crashed worker" in fail
    if PROC:
        assert not _processes_with(f"MR_TEST_TOKEN={token}")  # whatever it started is gone


def test_a_coordinator_that_hands_a_map_out_twice_fails_job_count() -> None:
    proc = distlab("mr-test", "--coordinator", _own("coordinator", "--bug", "no-in-progress"),
                   "--worker", _own("worker"), "-c", "job-count", "--time-scale", "0.1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    [fail] = _lines(proc.stdout, "FAIL")
    assert "job-count" in fail and "for 8 input files" in fail and "exactly once" in fail


def test_a_worker_that_exits_when_told_to_wait_fails_early_exit() -> None:
    proc = distlab("mr-test", "--coordinator", _own("coordinator"),
                   "--worker", _own("worker", "--bug", "exit-on-wait"), "-c", "early-exit", *FAST_FLAGS)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    [fail] = _lines(proc.stdout, "FAIL")
    assert "output changed after a worker exited" in fail


def test_mr_test_bad_input_is_one_error_line_and_exit_2() -> None:
    for args in (["--worker", "x"], ["--coordinator", "no-such-program-here", "--worker", "x"],
                 ["-c", "nope"], ["--coordinator", "'unclosed", "--worker", "x"]):
        proc = distlab("mr-test", *args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert proc.stderr.startswith("error:") and proc.stderr.count("\n") == 1, proc.stderr


# --- a worker in "another language": the apps through the runner -------------------------

FOREIGN_WORKER = textwrap.dedent('''
    """A worker that does not import distlab: it speaks the coordinator's HTTP over the Unix
    socket and runs the application through $DISTLAB_MR_APP, as a Go or Rust worker would."""
    import http.client, json, os, shlex, socket, subprocess, sys, time

    class Conn(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(os.environ["DISTLAB_MR_SOCKET"])

    def call(route, body):
        c = Conn("localhost", timeout=10)
        c.request("POST", "/" + route, json.dumps(body))
        return json.loads(c.getresponse().read())

    def ihash(key):
        h = 0x811C9DC5
        for b in key.encode():
            h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
        return h & 0x7FFFFFFF

    def write(path, data):
        with open(path + ".tmp", "w") as f:
            f.write(data)
        os.replace(path + ".tmp", path)

    app, runner = sys.argv[1], shlex.split(os.environ["DISTLAB_MR_APP"])
    while True:
        try:
            task = call("task", {"worker": os.getpid()})
        except OSError:
            sys.exit(0)
        if task["kind"] == "exit":
            sys.exit(0)
        if task["kind"] == "wait":
            time.sleep(0.2)
            continue
        if task["kind"] == "map":
            out = subprocess.run(runner + [app, "map", task["file"]], capture_output=True,
                                 text=True, check=True).stdout
            buckets = [[] for _ in range(task["n_reduce"])]
            for line in out.splitlines():
                buckets[ihash(json.loads(line)[0]) % task["n_reduce"]].append(line + "\\n")
            for r, lines in enumerate(buckets):
                write(f"mr-{task['task']}-{r}", "".join(lines))
        else:
            data = "".join(open(f"mr-{m}-{task['task']}").read() for m in range(task["n_map"]))
            out = subprocess.run(runner + [app, "reduce"], input=data, capture_output=True,
                                 text=True, check=True).stdout
            write(f"mr-out-{task['task']}", out)
        call("done", {"kind": task["kind"], "task": task["task"]})
''')


def test_a_worker_running_the_apps_through_the_runner_passes(tmp_path: Path) -> None:
    """wc, and crash, where the runner kills its parent worker as a crash would. The worker
    is given by a relative path: the checks run in directories of their own, and mr-test
    makes it absolute."""
    (tmp_path / "foreign_worker.py").write_text(FOREIGN_WORKER)
    proc = distlab("mr-test", "--coordinator", _own("coordinator"),
                   "--worker", f"{sys.executable} foreign_worker.py", "-c", "wc", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [line.split()[1] for line in _lines(proc.stdout, "PASS")] == ["wc"]
    [crash] = run_checks(OWN_COORDINATOR, [sys.executable, str(tmp_path / "foreign_worker.py")],
                         ["crash"], FASTER)
    assert crash.passed, crash.reason


def test_the_runner_speaks_for_its_parent_worker(tmp_path: Path) -> None:
    """mtiming names (and counts) the worker that started the runner, not the runner."""
    text = tmp_path / "t.txt"
    text.write_text("x")
    script = ("import subprocess, sys, os; print(os.getpid()); sys.stdout.flush(); "
              "subprocess.run([sys.executable, '-m', 'distlab.systems.mapreduce.app', "
              f"'mtiming', 'map', {str(text)!r}], check=True)")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "DISTLAB_MR_TIME_SCALE": "0"}, check=True)
    parent, times, parallel = proc.stdout.splitlines()
    assert times.startswith(f'["times-{parent}", ') and parallel == f'["parallel-{parent}", "1"]'


def test_the_runner_maps_and_reduces(tmp_path: Path) -> None:
    text = tmp_path / "t.txt"
    text.write_text("b a b")
    run = [sys.executable, "-m", "distlab.systems.mapreduce.app"]
    mapped = subprocess.run([*run, "wc", "map", str(text)], capture_output=True, text=True, check=True)
    assert mapped.stdout.splitlines() == ['["b", "1"]', '["a", "1"]', '["b", "1"]']
    reduced = subprocess.run([*run, "wc", "reduce"], input=mapped.stdout, capture_output=True,
                             text=True, check=True)
    assert reduced.stdout == "a 1\nb 2\n"
    bad = subprocess.run([*run, "nope", "reduce"], input="", capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("error: unknown application")


# --- distlab mr -------------------------------------------------------------------------

def test_distlab_mr_wc_equals_the_sequential_output(tmp_path: Path) -> None:
    files = write_inputs(tmp_path / "in", seed=3, words=400)
    out = tmp_path / "out"
    (out).mkdir()
    (out / "mr-out-7").write_text("stale 1\n")  # from an earlier job with more reduce tasks
    proc = distlab("mr", "wc", *files, "--workers", "3", "--reduce", "4", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [f"mr-out-{i}" for i in range(4)]
    got = sorted(line for p in out.iterdir() for line in p.read_text().splitlines() if line)
    expected = sorted(line.rstrip("\n") for line in sequential.run(load("wc"), files))
    assert got == expected
    assert "8 map and 4 reduce runs" in proc.stdout


def test_distlab_mr_survives_crashing_workers(tmp_path: Path) -> None:
    files = write_inputs(tmp_path / "in", seed=4, words=100)
    out = tmp_path / "out"
    proc = distlab("mr", "crash", *files, "-w", "4", "-o", str(out), "--task-timeout", "0.5",
                   "--time-scale", "0.05")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = sorted(line for p in out.glob("mr-out-*") for line in p.read_text().splitlines() if line)
    assert got == sorted(line.rstrip("\n") for line in sequential.run(load("nocrash"), files))


@pytest.mark.parametrize("args, message", [
    (["nope", "{file}"], "unknown application 'nope'"),
    (["wc", "{dir}/missing.txt"], "does not exist"),
    (["wc", "{file}", "--workers", "0"], "--workers"),
    (["wc", "{file}", "--reduce", "x"], "--reduce"),
    (["wc", "{file}", "--out", "{file}"], "is a file"),
])
def test_distlab_mr_bad_input_is_one_error_line_and_exit_2(tmp_path: Path, args: list[str],
                                                           message: str) -> None:
    file = tmp_path / "a.txt"
    file.write_text("a")
    proc = distlab("mr", *[a.format(file=file, dir=tmp_path) for a in args], cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("error:") and proc.stderr.count("\n") == 1, proc.stderr
    assert message in proc.stderr


# --- the pieces -------------------------------------------------------------------------

def test_coordinator_reassigns_a_silent_workers_task_only_after_the_timeout() -> None:
    now = [0.0]
    c = Coordinator(["f0", "f1"], 2, task_timeout=10.0, clock=lambda: now[0])
    assert c.request(1) == {"kind": "map", "task": 0, "file": "f0", "n_reduce": 2}
    now[0] = 5.0
    assert c.request(2)["task"] == 1
    assert c.request(3) == {"kind": "wait"}
    now[0] = 9.9
    assert c.request(3) == {"kind": "wait"}
    now[0] = 10.0
    assert c.request(3)["task"] == 0 and c.reassigned == 1
    c.report("map", 0)
    c.report("map", 0)  # the first worker's late report changes nothing
    assert c.request(4) == {"kind": "wait"}  # map 1 still running: no reduce yet
    c.report("map", 1)
    assert c.request(4) == {"kind": "reduce", "task": 0, "n_map": 2}
    c.report("reduce", 0)
    c.report("reduce", 1)
    assert c.done() and c.request(5) == {"kind": "exit"}


def test_coordinator_bugs_behave_as_named() -> None:
    never = Coordinator(["f0"], 1, task_timeout=1.0, bug="never-reassign", clock=lambda: 99.0)
    never.request(1)
    assert never.request(2) == {"kind": "wait"}
    twice = Coordinator(["f0"], 1, task_timeout=1.0, bug="no-in-progress", clock=lambda: 0.0)
    assert twice.request(1)["task"] == twice.request(2)["task"] == 0


def test_words_are_maximal_runs_of_unicode_letters() -> None:
    assert letter_runs("don't R2D2 déjà-vu Straße ½x Ⅻ 東京 well_known") == [
        "don", "t", "R", "D", "déjà", "vu", "Straße", "x", "東京", "well", "known"]


def test_partitioning_is_fnv1a_and_stable() -> None:
    assert ihash("a") == 0xE40C292C & 0x7FFFFFFF
    assert ihash("") == 0x811C9DC5 & 0x7FFFFFFF


def test_difference_names_the_first_missing_and_unexpected_lines() -> None:
    assert difference(["a 1", "b 2"], ["a 1", "b 2"], "x") is None
    reason = difference(["a 1", "b 2"], ["a 1", "b 3"], "the sequential wc")
    assert reason is not None and "'b 2'" in reason and "'b 3'" in reason
    assert "no output lines" in (difference(["a 1"], [], "x") or "")
    assert "more often" in (difference(["a 1"], ["a 1", "a 1"], "x") or "")


def test_every_app_loads_and_unknown_ones_do_not() -> None:
    for name in APP_NAMES:
        load(name)
    with pytest.raises(AppError, match="unknown application"):
        load("wordcount")


def _processes_with(variable: str) -> set[int]:
    """Live processes whose environment holds `variable` (NAME=value): the descendants of
    the one process that was given it, even once orphaned."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if variable.encode() in environ.split(b"\0"):
                pids.add(int(entry.name))
    return pids


def test_a_failing_application_stops_distlab_mr_with_its_error(tmp_path: Path) -> None:
    """An exception in the app is not a crash to retry forever: the job stops, naming it."""
    app = tmp_path / "bad.py"
    app.write_text("def map_fn(f, c):\n    return [('x', '1')]\n\n"
                   "def reduce_fn(k, v):\n    raise ValueError('boom')\n")
    files = write_inputs(tmp_path / "in", seed=5, words=20)
    proc = distlab("mr", str(app), *files, "-o", str(tmp_path / "out"), "-r", "2")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "failed: ValueError: boom" in proc.stdout


def test_a_check_names_a_coordinator_that_exits_with_an_error() -> None:
    [outcome] = run_checks(["false"], ["true"], ["wc"], FAST)
    assert not outcome.passed
    assert "no output lines" in outcome.reason and "coordinator exited with status 1" in outcome.reason


def test_sequential_module_writes_mr_out_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.txt").write_text("x y x")
    monkeypatch.chdir(tmp_path)
    assert sequential.main(["wc", "a.txt"]) == 0
    assert (tmp_path / "mr-out-0").read_text() == "x 2\ny 1\n"
    assert sequential.main(["nope", "a.txt"]) == 2


def test_mr_test_gives_every_process_its_own_hash_seed() -> None:
    """`distlab` pins PYTHONHASHSEED for itself; the job's processes must not inherit it, or
    a worker partitioning with hash() would agree with itself across processes and pass."""
    from distlab.systems.mapreduce import mrtest

    seen: list[dict[str, str]] = []
    real = mrtest._Run.__init__

    def spy(self: object, coordinator: str, worker: str, cwd: Path, env: dict[str, str], *rest: object) -> None:
        seen.append(env)
        raise RuntimeError("stop")

    old = os.environ.get("PYTHONHASHSEED")
    os.environ["PYTHONHASHSEED"] = "0"
    mrtest._Run.__init__ = spy  # type: ignore[method-assign]
    try:
        with contextlib.suppress(RuntimeError):
            list(mrtest.run_checks(["true"], ["true"], ["wc"]))
    finally:
        mrtest._Run.__init__ = real  # type: ignore[method-assign]
        if old is None:
            os.environ.pop("PYTHONHASHSEED")
        else:
            os.environ["PYTHONHASHSEED"] = old
    assert seen and "PYTHONHASHSEED" not in seen[0]
