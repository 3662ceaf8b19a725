"""Hunt D: three graders that could give a wrong or unrepeatable verdict.

- store/redis-protocol (and tcp-server, async-server built on it) promise binary-safe
  values, but the reference decoded them as UTF-8 and no scenario sent other bytes: a
  scenario now does, and a server that decodes fails saying "binary-safe".
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

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
