"""distlab.fanout: the same items give the same results on this machine's processes and on
Dask (a LocalCluster, or a scheduler reached by address), for plain functions, a Raft
campaign of a few seeds and `distlab tracks --verify` of two tasks; an unreachable
scheduler, a missing Dask and workers hashing differently each end in one line, exit 2."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from distlab.fanout import FanoutError, backend, run_all

ROOT = Path(__file__).resolve().parents[1]
DISTLAB = str(Path(sys.executable).with_name("distlab"))

needs_dask = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None,
    reason="dask[distributed] is not installed (pip install -e '.[cluster]'): the Dask backend "
           "cannot be compared with the local one")


def square_plus(seed: int) -> tuple[int, int]:
    """A stand-in for a seeded run: the result depends on the item only."""
    return seed, (seed * seed + 7) % 1009


def closed_address() -> str:
    """A local TCP port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"tcp://127.0.0.1:{port}"


def test_backend_names() -> None:
    assert backend(None) == backend("") == backend("local") == "local"
    assert backend("dask") == backend("local-dask") == "dask-local"
    assert backend("tcp://10.0.0.5:8786") == backend("10.0.0.5:8786") == "dask"


def test_local_backends_keep_item_order_and_report_every_result() -> None:
    items = list(range(9, 0, -1))
    seen: list[int] = []
    serial = run_all(square_plus, items, workers=1, on_result=lambda i, r: seen.append(i))
    assert serial == [square_plus(s) for s in items]
    assert seen == list(range(len(items)))
    seen.clear()
    pooled = run_all(square_plus, items, scheduler="local", workers=2,
                     on_result=lambda i, r: seen.append(i))
    assert pooled == serial
    assert sorted(seen) == list(range(len(items)))


def test_missing_dask_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails
    with pytest.raises(FanoutError, match=r"^Dask is not installed: pip install 'distlab\[cluster\]'"):
        run_all(square_plus, [1, 2], scheduler="dask", workers=2)


@needs_dask
def test_dask_local_cluster_gives_the_local_results() -> None:
    items = list(range(1, 12))
    seen: list[int] = []
    got = run_all(square_plus, items, scheduler="dask", workers=2, on_result=lambda i, r: seen.append(i))
    assert got == run_all(square_plus, items, workers=1)
    assert sorted(seen) == list(range(len(items)))


def die(_: int) -> None:
    os._exit(3)  # as a crashing node harness or an app killing its worker would


@needs_dask
def test_a_task_killing_every_worker_is_an_error_not_a_hang() -> None:
    with pytest.raises(FanoutError, match=r"^no Dask worker is left at the LocalCluster "
                                          r"\(2 item\(s\), 0 done\)"):
        run_all(die, [1, 2], scheduler="dask", workers=1)


# --- benchmarks/raft_campaign.py --------------------------------------------------------

def campaign(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONHASHSEED="0")
    return subprocess.run([sys.executable, "benchmarks/raft_campaign.py", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)


@needs_dask
def test_raft_campaign_verdicts_are_the_same_on_dask(tmp_path: Path) -> None:
    common = ("--seeds", "3", "--first", "4", "--time-limit", "5", "--workers", "2")
    local = campaign(*common, "--json", str(tmp_path / "local.json"))
    assert local.returncode == 0, local.stdout + local.stderr
    on_dask = campaign(*common, "--scheduler", "dask", "--json", str(tmp_path / "dask.json"))
    assert on_dask.returncode == 0, on_dask.stdout + on_dask.stderr
    assert "on a Dask LocalCluster of 2 worker(s)" in on_dask.stdout
    a = json.loads((tmp_path / "local.json").read_text())
    b = json.loads((tmp_path / "dask.json").read_text())
    assert [r["seed"] for r in a] == [4, 5, 6]
    assert a == b  # verdicts, elections, simulated seconds and op counts, seed by seed


def test_raft_campaign_with_an_unreachable_scheduler_is_one_line() -> None:
    if importlib.util.find_spec("distributed") is None:
        pytest.skip("dask[distributed] is not installed: the missing-Dask line is tested above")
    address = closed_address()
    proc = campaign("--seeds", "2", "--time-limit", "5", "--scheduler", address)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [
        proc.stderr.strip()]
    assert proc.stderr.startswith(f"error: cannot reach the Dask scheduler at {address}")


# --- distlab tracks --verify ----------------------------------------------------------------

@pytest.fixture
def mini_tracks(tmp_path: Path) -> Path:
    """A course of one track holding two quick Messenger tasks."""
    src = ROOT / "distlab" / "tracks" / "messenger"
    track = tmp_path / "tracks" / "mini"
    track.mkdir(parents=True)
    shutil.copy(src / "track.toml", track / "track.toml")
    for task in ("01-echo", "02-kv-proxy"):
        shutil.copytree(src / task, track / task)
    return tmp_path / "tracks"


def verify(tracks: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DISTLAB_TRACKS=str(tracks), COLUMNS="200")
    return subprocess.run([DISTLAB, "tracks", "--verify", *args], env=env, capture_output=True,
                          text=True, timeout=600)


def rows(stdout: str) -> list[tuple[str, ...]]:
    """The table's rows without the seconds column (wall time differs, verdicts must not)."""
    found = []
    for line in stdout.splitlines():
        cells = [c.strip() for c in re.split(r"[│|]", line) if c.strip()]
        if len(cells) == 4 and cells[0].startswith("mini/"):
            found.append(tuple(cells[:3]))
    return found


@needs_dask
def test_tracks_verify_is_the_same_on_a_dask_cluster(mini_tracks: Path) -> None:
    local = verify(mini_tracks)
    assert local.returncode == 0, local.stdout + local.stderr
    assert "on up to 2 workers" in local.stdout  # the default, as before --scheduler
    expected = rows(local.stdout)
    assert [r[0] for r in expected] == ["mini/echo", "mini/kv-proxy"]
    on_dask = verify(mini_tracks, "--scheduler", "dask", "--workers", "2")
    assert on_dask.returncode == 0, on_dask.stdout + on_dask.stderr
    assert "on a Dask LocalCluster of 2 worker(s)" in on_dask.stdout
    assert rows(on_dask.stdout) == expected


@pytest.fixture
def running_scheduler(mini_tracks: Path) -> Iterator[str]:
    """A Dask scheduler with two workers started as a user would on other machines:
    `PYTHONHASHSEED=0 dask worker ADDRESS --no-nanny` (the seed `distlab` pins)."""
    distributed = pytest.importorskip("distributed")
    env = dict(os.environ, PYTHONHASHSEED="0", DISTLAB_TRACKS=str(mini_tracks))
    with distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=":0") as cluster:
        procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker",
                                   cluster.scheduler_address, "--no-nanny", "--nthreads", "1",
                                   "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for _ in range(2)]
        try:
            with distributed.Client(cluster) as client:
                client.wait_for_workers(2, timeout=120)
            yield cluster.scheduler_address
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=30)


@needs_dask
def test_tracks_verify_on_a_scheduler_address(mini_tracks: Path, running_scheduler: str) -> None:
    proc = verify(mini_tracks, "--scheduler", running_scheduler)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"on the Dask scheduler at {running_scheduler}" in proc.stdout
    assert rows(proc.stdout) == [("mini/echo", "pass", "2/2"), ("mini/kv-proxy", "pass", "1/1")]


@needs_dask
def test_workers_hashing_differently_are_refused(mini_tracks: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers under a nanny (dask's default) hash with the nanny's seed, not distlab's 0:
    their replays could differ, so the run stops before any task is sent."""
    distributed = pytest.importorskip("distributed")
    monkeypatch.setenv("PYTHONHASHSEED", "0")  # a nanny running here overwrites it: restored after
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        proc = verify(mini_tracks, "--scheduler", cluster.scheduler_address)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "hash strings differently from this run (PYTHONHASHSEED=0 here" in proc.stderr
    assert "--no-nanny" in proc.stderr


def test_tracks_verify_with_an_unreachable_scheduler_is_one_line(mini_tracks: Path) -> None:
    if importlib.util.find_spec("distributed") is None:
        pytest.skip("dask[distributed] is not installed: the missing-Dask line is tested above")
    address = closed_address()
    proc = verify(mini_tracks, "--scheduler", address)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip() == (f"error: cannot reach the Dask scheduler at {address}: "
                                   f"Timed out trying to connect to {address} after 5 s")


# --- distlab mr --scheduler -----------------------------------------------------------------

def mr(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DISTLAB, "mr", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def sequential(app: str, files: list[str]) -> list[str]:
    from distlab.systems.mapreduce.apps import load
    from distlab.systems.mapreduce.sequential import run

    return sorted(run(load(app), files))


def outputs(directory: Path) -> list[str]:
    return sorted(line for p in directory.glob("mr-out-*") for line in p.read_text().splitlines(True))


@pytest.mark.parametrize("scheduler", ["local", pytest.param("dask", marks=needs_dask)])
def test_mr_on_a_scheduler_equals_the_sequential_reference(tmp_path: Path, scheduler: str) -> None:
    from distlab.systems.mapreduce.inputs import write_inputs

    files = write_inputs(tmp_path / "in", seed=5, words=400)
    for app in ("wc", "indexer"):
        proc = mr(tmp_path, app, *files, "--scheduler", scheduler, "-w", "2", "-r", "3",
                  "-o", f"out-{app}")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"{len(files)} map and 3 reduce task(s)" in proc.stdout
        assert sorted(p.name for p in (tmp_path / f"out-{app}").iterdir()) == [
            "mr-out-0", "mr-out-1", "mr-out-2"]
        assert outputs(tmp_path / f"out-{app}") == sequential(app, files)


def test_mr_refuses_coordinator_apps_on_a_scheduler(tmp_path: Path) -> None:
    from distlab.systems.mapreduce.inputs import write_inputs

    files = write_inputs(tmp_path / "in", seed=5, words=100)
    proc = mr(tmp_path, "jobcount", *files, "--scheduler", "local")
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: jobcount tests 6.824's coordinator (task runs, worker "
                                   "timing, crashes), which --scheduler does not use; run it "
                                   "without --scheduler")


@pytest.mark.parametrize("scheduler", ["local", pytest.param("dask", marks=needs_dask)])
def test_a_failing_application_stops_mr_on_a_scheduler(tmp_path: Path, scheduler: str) -> None:
    from distlab.systems.mapreduce.inputs import write_inputs

    app = tmp_path / "bad.py"
    app.write_text("def map_fn(f, c):\n    return [('x', '1')]\n\n"
                   "def reduce_fn(k, v):\n    raise ValueError('boom')\n")
    files = write_inputs(tmp_path / "in", seed=5, words=20)
    proc = mr(tmp_path, str(app), *files, "--scheduler", scheduler, "-w", "2", "-r", "2")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "a reduce task failed: ValueError: boom" in proc.stdout
    assert not list((tmp_path / "mr-output").glob("mr-out-*"))  # no output of a failed job
