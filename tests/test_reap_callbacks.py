"""The messenger/reap-callbacks grader: correct tables of different designs pass every
scenario; the course's mutants and other broken tables fail with a sentence."""

from __future__ import annotations

import heapq
import importlib.util
from pathlib import Path
from typing import Any

import pytest

TASK = Path(__file__).resolve().parents[1] / "distlab" / "tracks" / "messenger" / "18-reap-callbacks"


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"_reap_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GRADER = _load(TASK / "grader.py")


def grade(cls: Any) -> dict[str, str | None]:
    return {name: GRADER.run(name, cls, 1) for name in GRADER.scenarios()}


class HeapTable:
    """Another correct design: a heap of deadlines, entries removed lazily."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.heap: list[tuple[float, int]] = []
        self.waiting: dict[int, Any] = {}

    def add(self, msg_id: int, callback: Any, now: float) -> None:
        self.waiting[msg_id] = callback
        heapq.heappush(self.heap, (now + self.timeout, msg_id))

    def deliver(self, reply: dict[str, Any], now: float) -> bool:
        cb = self.waiting.pop(reply.get("in_reply_to"), None)
        if cb is None:
            return False
        cb(reply)
        return True

    def reap(self, now: float) -> int:
        n = 0
        while self.heap and self.heap[0][0] <= now:
            _, msg_id = heapq.heappop(self.heap)
            cb = self.waiting.pop(msg_id, None)
            if cb is not None:
                cb(None)
                n += 1
        return n

    def __len__(self) -> int:
        return len(self.waiting)


class EarlyReaper(HeapTable):
    """Broken: reaps at half the timeout."""

    def add(self, msg_id: int, callback: Any, now: float) -> None:
        self.waiting[msg_id] = callback
        heapq.heappush(self.heap, (now + self.timeout / 2, msg_id))


class WrongCount(HeapTable):
    """Broken: reap returns nothing useful."""

    def reap(self, now: float) -> int:
        super().reap(now)
        return 0


def test_correct_tables_pass() -> None:
    assert grade(_load(TASK / "reference.py").Pending) == {name: None for name in GRADER.scenarios()}
    assert grade(HeapTable) == {name: None for name in GRADER.scenarios()}


@pytest.mark.parametrize("cls,words", [(EarlyReaper, "before its 1 s timeout"), (WrongCount, "returned 0")])
def test_broken_tables_fail_with_a_sentence(cls: Any, words: str) -> None:
    reasons = [r for r in grade(cls).values() if r]
    assert any(words in r for r in reasons), reasons


def test_the_starter_runs_and_fails() -> None:
    reasons = [r for r in grade(_load(TASK / "starter.py").Pending).values() if r]
    assert reasons and all("{" not in r or "'in_reply_to'" in r for r in reasons)


def test_every_mutant_fails_with_its_phrase(tmp_path: Path) -> None:
    from distlab.tracks.catalogue import load

    task = load().tasks["messenger/reap-callbacks"]
    assert task.mutants
    for m in task.mutants:  # whole files or patches against the reference
        reasons = [r for r in grade(_load(m.materialize(task.reference, tmp_path / m.file.stem)).Pending).values() if r]
        assert any(m.fails in r for r in reasons), (m.file.name, reasons)


def test_a_constructor_that_raises_is_a_sentence() -> None:
    class Bad:
        def __init__(self, timeout: float) -> None:
            raise ValueError("nope")

    assert "Pending(timeout=1.0) raised ValueError: nope" in GRADER.run("timeout", Bad, 1)
