"""Fail point chains split at `->` outside parentheses only: an argument may hold one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from distlab import fail


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    fail.teardown()
    yield
    fail.teardown()


def test_an_arrow_inside_an_argument_is_the_arguments() -> None:
    assert fail.split_chain("print(a->b)") == ["print(a->b)"]
    [action] = fail.parse_actions("print(a->b)")
    assert (action.task, action.arg) == ("print", "a->b")


def test_top_level_arrows_still_split_the_chain() -> None:
    assert fail.split_chain("2*off->print(x->y)->return(z)") == ["2*off", "print(x->y)", "return(z)"]
    actions = fail.parse_actions("2*off -> 50%print(a->b(c->d)) -> return")
    assert [(a.task, a.arg, a.count, a.freq) for a in actions] == [
        ("off", None, 2, 1.0), ("print", "a->b(c->d)", None, 0.5), ("return", None, None, 1.0)]


def test_a_configured_point_returns_the_argument_whole() -> None:
    fail.cfg("chains::ret", "1*return(x->y)->return(z)")
    first = fail.fail_return("chains::ret")
    second = fail.fail_return("chains::ret")
    assert first is not None and first.arg == "x->y"
    assert second is not None and second.arg == "z"


def test_unmatched_parentheses_are_one_error_naming_the_action() -> None:
    with pytest.raises(fail.FailPointError, match="parentheses do not match in 'print\\(a->b'"):
        fail.parse_actions("print(a->b")
    with pytest.raises(fail.FailPointError, match="unknown task"):
        fail.parse_actions("print(a)->b)")


def test_run_counts_keep_an_argument_with_an_arrow_as_one_step() -> None:
    counts = fail.RunCounts([("p", "1*print(a->b)->return(c->d)")])
    counts.record({"event": fail.RECORD_EVENT, "type": "p", "step": 0, "task": "print",
                   "counted": True})
    assert counts.chain("p") == "0*print(a->b)->return(c->d)"
    assert [a.arg for a in fail.parse_actions(counts.chain("p"))] == ["a->b", "c->d"]
