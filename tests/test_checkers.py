"""The echo and unique-ids checkers on hand-made histories, good and bad."""

from __future__ import annotations

from typing import Any

from distlab.checkers import echo, unique_ids
from distlab.history import History, pairs


def history(*ops: tuple[Any, ...]) -> list[dict[str, Any]]:
    """(process, type, f, value) tuples, in order, at 1 ms apart."""
    h = History()
    for i, (process, type_, f, value) in enumerate(ops):
        h.add(i / 1000, process, type_, f, value)
    return h.records


def test_echo_accepts_exact_echoes_and_ignores_failures() -> None:
    h = history(
        (0, "invoke", "echo", "a"), (1, "invoke", "echo", "b"),
        (1, "ok", "echo", "b"), (0, "fail", "echo", "a"),
    )
    result = echo.check(h)
    assert result == {"valid": True, "ok_count": 1, "mismatched_count": 0, "mismatched": []}


def test_echo_catches_a_wrong_payload() -> None:
    h = history((0, "invoke", "echo", "hello"), (0, "ok", "echo", "hell"), (0, "invoke", "echo", "x"), (0, "ok", "echo", "x"))
    result = echo.check(h)
    assert result["valid"] is False
    assert result["mismatched_count"] == 1
    assert result["mismatched"] == [{"index": 1, "sent": "hello", "got": "hell"}]


def test_echo_keeps_only_ten_examples_but_counts_all() -> None:
    ops: list[tuple[Any, ...]] = []
    for i in range(25):
        ops += [(0, "invoke", "echo", i), (0, "ok", "echo", -i - 1)]
    result = echo.check(history(*ops))
    assert result["mismatched_count"] == 25
    assert len(result["mismatched"]) == 10


def test_unique_ids_valid_when_distinct_even_across_types() -> None:
    h = history(
        (0, "invoke", "generate", None), (0, "ok", "generate", 1),
        (1, "invoke", "generate", None), (1, "ok", "generate", "1"),
        (2, "invoke", "generate", None), (2, "ok", "generate", [1]),
        (3, "invoke", "generate", None), (3, "info", "generate", None),
        ("nemesis", "invoke", "start-partition", {"grudge": {}}), ("nemesis", "info", "start-partition", {"grudge": {}}),
    )
    result = unique_ids.check(h)
    assert result == {"valid": True, "attempted_count": 4, "acknowledged_count": 3, "duplicated_count": 0, "duplicated": []}


def test_unique_ids_catches_and_names_duplicates() -> None:
    h = history(
        (0, "invoke", "generate", None), (0, "ok", "generate", {"n": 1, "c": 2}),
        (1, "invoke", "generate", None), (1, "ok", "generate", {"c": 2, "n": 1}),  # same object, other key order
        (2, "invoke", "generate", None), (2, "ok", "generate", 7),
        (0, "invoke", "generate", None), (0, "ok", "generate", 7),
        (1, "invoke", "generate", None), (1, "ok", "generate", 7),
    )
    result = unique_ids.check(h)
    assert result["valid"] is False
    assert result["duplicated_count"] == 2
    assert result["duplicated"] == [[7, 3], [{"c": 2, "n": 1}, 2]]


def test_pairs_match_invocations_to_completions_per_process() -> None:
    h = history((0, "invoke", "echo", "a"), (1, "invoke", "echo", "b"), (1, "ok", "echo", "b"), (2, "invoke", "echo", "c"))
    matched = [(inv["value"], done and done["type"]) for inv, done in pairs(h)]
    assert matched == [("a", None), ("b", "ok"), ("c", None)]
