"""Majority arithmetic, in one place (etcd-io/raft keeps it in its `quorum` package).

Raft decides three things by majority: whether an election is won or lost (§5.2),
which log index is committed (§5.3, the highest index a majority has stored), and
which ReadIndex heartbeat round a majority has acknowledged (§6.4). The core and the
tester both ask this module, so a cluster of n voters has one idea of a majority.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum


class VoteResult(Enum):
    """Where an election stands after the votes counted so far."""

    PENDING = "pending"
    WON = "won"
    LOST = "lost"


def majority(voters: int) -> int:
    """The smallest number of voters that outnumbers the rest: any two such sets meet."""
    return voters // 2 + 1


def committed_index(acked: Iterable[int]) -> int:
    """The highest value that a majority of voters has reached, one value per voter.

    With match indexes (the leader's own last index among them) this is the highest
    index stored on a majority; with acknowledged heartbeat rounds it is the newest
    round a majority has confirmed.
    """
    values = sorted(acked, reverse=True)
    return values[majority(len(values)) - 1]


def vote_result(votes: Mapping[str, bool], voters: int) -> VoteResult:
    """WON once a majority granted, LOST once a majority refused, else PENDING."""
    quorum = majority(voters)
    granted = sum(1 for v in votes.values() if v)
    if granted >= quorum:
        return VoteResult.WON
    if len(votes) - granted >= quorum:
        return VoteResult.LOST
    return VoteResult.PENDING
