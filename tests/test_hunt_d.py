"""Hunt D: three graders that could give a wrong or unrepeatable verdict.

- store/redis-protocol (and tcp-server, async-server built on it) promise binary-safe
  values, but the reference decoded them as UTF-8 and no scenario sent other bytes: a
  scenario now does, and a server that decodes fails saying "binary-safe".
- mapreducer/crashes: the crash app rolled fresh dice in every worker, so whether a
  coordinator that never reassigns saw a crash (and failed) changed from run to run. With
  DISTLAB_MR_CRASH_SEED (mr-test and the graders set it to the check's seed) the k-th run
  of each map and reduce rolls dice from the seed, its name and k only.
- identifier/time-window: kills on the fixed beat with 1 s client timeouts (restarted
  nodes serve again soon), and two more ways to lose the mark across a restart.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from distlab.systems.mapreduce.apps import crash
from distlab.tracks.catalogue import Task, load
from distlab.tracks.procgrade import Failure, Server, check_binary_safe, command, scratch
from distlab.tracks.verify import verify_task

pytestmark = pytest.mark.timeout(120)

def _task(task_id: str) -> Task:
    task = load().task(task_id)
    assert task is not None, task_id
    return task


def _module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _mutant(task: Task, stem: str, into: Path) -> Path:
    [mutant] = [m for m in task.mutants if m.file.stem == stem]
    return mutant.materialize(task.reference, into)


def _variant(task: Task, into: Path, name: str, decode: str, encode: str) -> Path:
    """The task's reference with its latin-1 conversions replaced, as a learner may write them."""
    text = task.reference.read_text(encoding="utf-8")
    assert text.count('.decode("latin-1")') >= 3
    text = text.replace('.decode("latin-1")', decode).replace('.encode("latin-1")', encode)
    path = into / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    return path


def _grade_resp(task: Task, server_file: Path, tmp_path: Path) -> str | None:
    """The redis-protocol grader's new scenario on the KvServer in `server_file`."""
    grader = _module(task.folder / "grader.py", f"_hunt_d_grader_{server_file.stem}")
    cls = _module(server_file, f"_hunt_d_server_{server_file.stem}").KvServer
    return grader.run("values that are not UTF-8 text", cls, 1)  # type: ignore[no-any-return]


def test_resp_reference_stores_bytes_that_are_not_text(tmp_path: Path) -> None:
    task = _task("store/redis-protocol")
    server = _module(task.reference, "_hunt_d_resp_reference").KvServer(tmp_path / "db")
    raw = b"\xff\x00\xfe"
    assert server.feed(command("SET", b"k\xc0", raw)) == b"+OK\r\n"
    assert server.feed(command("GET", b"k\xc0")) == b"$3\r\n" + raw + b"\r\n"
    server.close()
    again = _module(task.reference, "_hunt_d_resp_reference2").KvServer(tmp_path / "db")
    assert again.feed(command("GET", b"k\xc0")) == b"$3\r\n" + raw + b"\r\n"  # from the log
    again.close()


def test_resp_grader_passes_binary_safe_servers_and_fails_decoding_ones(tmp_path: Path) -> None:
    task = _task("store/redis-protocol")
    assert _grade_resp(task, task.reference, tmp_path) is None
    # any reversible bytes-to-text mapping is binary-safe, not only the reference's latin-1
    escaped = _variant(task, tmp_path, "surrogates", '.decode(errors="surrogateescape")',
                       '.encode(errors="surrogateescape")')
    assert _grade_resp(task, escaped, tmp_path) is None
    raising = _grade_resp(task, _mutant(task, "utf8_text", tmp_path / "m"), tmp_path)
    assert raising is not None and "UnicodeDecodeError" in raising and "binary-safe" in raising
    replaced = _grade_resp(task, _variant(task, tmp_path, "replaced", '.decode(errors="replace")', ".encode()"),
                           tmp_path)
    assert replaced is not None and "got" in replaced and "binary-safe" in replaced, replaced


@pytest.mark.parametrize("task_id", ["store/redis-protocol", "store/tcp-server", "store/async-server"])
def test_binary_safe_tasks_keep_the_decoding_mutant(task_id: str) -> None:
    task = _task(task_id)
    [mutant] = [m for m in task.mutants if m.file.stem == "utf8_text"]
    assert mutant.fails == "binary-safe"
    if task_id == "store/redis-protocol":  # the fast one; the servers are verified below
        verdict = verify_task(task)
        assert verdict.ok, verdict.problems


def _program_verdict(server_file: Path) -> str | None:
    with scratch("distlab-hunt-d-") as tmp, Server(server_file, tmp / "data") as server:
        try:
            check_binary_safe(server)
        except Failure as exc:
            return str(exc)
    return None


@pytest.mark.parametrize("task_id", ["store/tcp-server", "store/async-server"])
def test_check_binary_safe_on_real_servers(task_id: str, tmp_path: Path) -> None:
    task = _task(task_id)
    assert _program_verdict(task.reference) is None
    reason = _program_verdict(_mutant(task, "utf8_text", tmp_path))
    assert reason is not None and "binary-safe" in reason and "closed the connection" in reason, reason
    replaced = _variant(task, tmp_path, "replaced", '.decode(errors="replace")', ".encode()")
    reason = _program_verdict(replaced)
    assert reason is not None and "GET b'raw' got" in reason and "binary-safe" in reason, reason


def test_check_binary_safe_restarts_the_server(tmp_path: Path) -> None:
    """A server that keeps the bytes in memory but cannot log them fails after the restart."""
    task = _task("store/tcp-server")
    text = task.reference.read_text(encoding="utf-8")
    old = '            self.store.write(["set", key, value])\n'
    assert old in text
    forgetful = tmp_path / "memory_only.py"
    forgetful.write_text(text.replace(old, "", 1), encoding="utf-8")
    reason = _program_verdict(forgetful)
    assert reason is not None and reason.startswith("after a SIGTERM and a restart"), reason


class _Crashed(Exception):
    pass


def _outcomes(monkeypatch: pytest.MonkeyPatch, folder: Path, kind: str, name: str, runs: int) -> list[str]:
    """What `runs` successive runs of one map or reduce do in `folder`: crash, stall or run."""
    folder.mkdir()
    monkeypatch.chdir(folder)
    out: list[str] = []

    def died() -> None:
        raise _Crashed

    monkeypatch.setattr(crash, "crash_worker", died)
    monkeypatch.setattr(crash, "sleep", lambda seconds: out.append(f"stall {seconds:.3f}"))
    for _ in range(runs):
        before = len(out)
        try:
            if kind == "map":
                crash.map_fn(str(folder / "elsewhere" / name), "text")
            else:
                crash.reduce_fn(name, ["1"])
            if len(out) == before:
                out.append("ran")
        except _Crashed:
            out.append("crash")
    return out


def test_seeded_crash_dice_are_the_same_in_every_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DISTLAB_MR_CRASH_SEED", "7")
    first = _outcomes(monkeypatch, tmp_path / "a", "map", "pg-grimm.txt", 12)
    second = _outcomes(monkeypatch, tmp_path / "b", "map", "pg-grimm.txt", 12)
    assert first == second  # the folder's path is not in the dice, only the file's name
    assert [o == "crash" for o in first] == [crash.crash_rolls("7", "map", "pg-grimm.txt", k) for k in range(12)]
    assert {"crash", "ran"} <= {o.split()[0] for o in first}  # 12 runs see each outcome
    assert len(list((tmp_path / "a").glob(".mr-crash-*"))) == 12  # one claimed run number each
    reduces = _outcomes(monkeypatch, tmp_path / "c", "reduce", "a", 12)
    assert reduces == _outcomes(monkeypatch, tmp_path / "d", "reduce", "a", 12)
    monkeypatch.setenv("DISTLAB_MR_CRASH_SEED", "8")
    assert _outcomes(monkeypatch, tmp_path / "e", "map", "pg-grimm.txt", 12) != first


def test_unseeded_crash_dice_leave_no_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DISTLAB_MR_CRASH_SEED", raising=False)
    outcomes = _outcomes(monkeypatch, tmp_path / "a", "map", "pg-grimm.txt", 60)
    assert {"crash", "ran"} <= {o.split()[0] for o in outcomes}
    assert not list((tmp_path / "a").iterdir())


def test_the_crashes_task_seeds_crash_a_first_run(tmp_path: Path) -> None:
    """A coordinator that never reassigns hangs as soon as one task's first run crashes:
    on every seed the task grades, some first run does, whatever the scheduling."""
    from distlab.systems.mapreduce import sequential
    from distlab.systems.mapreduce.apps import load as load_app
    from distlab.systems.mapreduce.inputs import write_inputs
    from distlab.systems.mapreduce.mrtest import Settings

    task = _task("mapreducer/crashes")
    seeds = task.grader.get("seeds", 1)
    for seed in range(1, seeds + 1) if isinstance(seeds, int) else seeds:
        files = write_inputs(tmp_path / str(seed), seed, Settings().words)
        keys = [line.split(" ", 1)[0] for line in sequential.run(load_app("nocrash"), files) if line.strip()]
        first_crashes = [Path(f).name for f in files if crash.crash_rolls(str(seed), "map", Path(f).name)]
        first_crashes += [k for k in keys if crash.crash_rolls(str(seed), "reduce", k)]
        assert first_crashes, f"seed {seed}: no first run crashes, so never_reassign could pass"


def test_mr_check_gives_the_checks_the_scenario_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    task = _task("mapreducer/crashes")
    kit = _module(task.folder.parent / "kit.py", "_hunt_d_kit")
    seen: list[Any] = []

    def fake_run_checks(coordinator: list[str], worker: list[str], names: list[str], settings: Any) -> list[Any]:
        seen.append(settings)
        return []

    monkeypatch.setattr(kit, "run_checks", fake_run_checks)
    monkeypatch.setenv("DISTLAB_MR_CRASH_SEED", "999")  # a stray setting changes no verdict
    assert kit.mr_check("crash", kit.compare, "coordinator", kit.FAST, seed=5) is None
    assert seen[0].seed == 5 and seen[0].crash_seed == "5"


@pytest.mark.parametrize(("crash_seed", "env", "want"), [(None, None, "3"), (None, "11", "11"), ("4", "11", "4")])
def test_run_checks_hands_the_crash_seed_to_every_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          crash_seed: str | None, env: str | None,
                                                          want: str) -> None:
    from distlab.systems.mapreduce.mrtest import Settings, run_checks

    if env is None:
        monkeypatch.delenv("DISTLAB_MR_CRASH_SEED", raising=False)
    else:
        monkeypatch.setenv("DISTLAB_MR_CRASH_SEED", env)
    seen = tmp_path / "seen"
    probe = [sys.executable, "-c",
             f"import os; open({str(seen)!r}, 'a').write(os.environ['DISTLAB_MR_CRASH_SEED'] + chr(10))"]
    settings = Settings(check_timeout=5.0, seed=3, words=50, crash_seed=crash_seed)
    [outcome] = run_checks(probe, probe, ["indexer"], settings)
    assert not outcome.passed  # the probes write no output
    assert set(seen.read_text().split()) == {want}


def test_time_window_catches_every_way_to_lose_the_mark() -> None:
    task = _task("identifier/time-window")
    [scenario] = task.scenarios
    assert scenario.options["nemesis_schedule"] == "fixed" and scenario.options["op_timeout"] == 1.0
    names = {m.file.stem for m in task.mutants}
    assert {"memory_guard", "unsynced_mark", "restart_trusts_clock", "sync_before_write"} <= names
    verdict = verify_task(task)
    assert verdict.ok, verdict.problems
