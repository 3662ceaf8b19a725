"""Majority arithmetic (distlab/systems/raft/quorum.py): elections, commit indexes and
ReadIndex rounds all count a majority the same way."""

from __future__ import annotations

import itertools

import pytest

from distlab.systems.raft.quorum import VoteResult, committed_index, majority, vote_result


@pytest.mark.parametrize("voters,expected", [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (7, 4)])
def test_majority(voters: int, expected: int) -> None:
    assert majority(voters) == expected


def test_any_two_majorities_intersect() -> None:
    for n in range(1, 8):
        q = majority(n)
        assert 2 * q > n and 2 * (q - 1) <= n  # the smallest size that always overlaps


@pytest.mark.parametrize("acked,expected", [
    ([7], 7),
    ([5, 3, 9], 5),  # two of three hold 5
    ([9, 9, 0, 0, 1], 1),  # three of five hold 1; only two hold 9
    ([4, 4, 4, 0, 0], 4),
    ([10, 8, 6, 4], 6),  # three of four hold 6
])
def test_committed_index_is_the_highest_value_a_majority_reached(acked: list[int],
                                                                  expected: int) -> None:
    assert committed_index(acked) == expected
    assert committed_index(reversed(acked)) == expected  # order does not matter


def test_committed_index_by_brute_force() -> None:
    for values in itertools.product(range(4), repeat=5):
        best = max(v for v in range(4) if sum(1 for x in values if x >= v) >= majority(5))
        assert committed_index(values) == best


@pytest.mark.parametrize("votes,voters,expected", [
    ({"a": True}, 1, VoteResult.WON),
    ({"a": True}, 3, VoteResult.PENDING),
    ({"a": True, "b": True}, 3, VoteResult.WON),
    ({"a": True, "b": False}, 3, VoteResult.PENDING),
    ({"a": True, "b": False, "c": False}, 3, VoteResult.LOST),
    ({"a": True, "b": False, "c": False}, 5, VoteResult.PENDING),
    ({"a": True, "b": False, "c": False, "d": False}, 5, VoteResult.LOST),
    ({"a": True, "b": True, "c": False, "d": False}, 4, VoteResult.PENDING),  # a 2-2 tie
])
def test_vote_result(votes: dict[str, bool], voters: int, expected: VoteResult) -> None:
    assert vote_result(votes, voters) is expected
