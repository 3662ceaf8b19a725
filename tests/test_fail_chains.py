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


def test_a_semicolon_inside_an_argument_does_not_end_the_point() -> None:
    assert fail.split_points("a=print(x;y);b=return(1)") == ["a=print(x;y)", "b=return(1)"]
    assert fail.parse_env("a=print(x;y) ; b=return(1;2)") == [("a", "print(x;y)"), ("b", "return(1;2)")]
    assert fail.setup_from_env({fail.ENV_VAR: "chains::semi=return(k;v)"}) == ["chains::semi"]
    got = fail.fail_return("chains::semi")
    assert got is not None and got.arg == "k;v"


def test_top_level_semicolons_still_separate_points() -> None:
    # known-bad beside the good: a split that ignored `;` would configure one point named "a"
    assert [name for name, _ in fail.parse_env("a=off;b=off")] == ["a", "b"]
    with pytest.raises(fail.FailPointError, match="expected NAME=ACTIONS, got 'y\\)'"):
        fail.parse_env("a=print(x);y)")


def test_run_spec_and_carried_over_env_keep_a_semicolon_argument_whole() -> None:
    pairs = fail.parse_run_spec("n1/raft::before_apply=1*print(a;b);raft::after_append=off",
                                node_ids=["n1", "n2"], simulator=True)
    assert pairs == [("n1/raft::before_apply", "1*print(a;b)"), ("raft::after_append", "off")]
    counts = fail.RunCounts(fail.node_points(pairs, "n1"))
    assert fail.parse_env(counts.env()) == [("raft::before_apply", "1*print(a;b)"),
                                            ("raft::after_append", "off")]
