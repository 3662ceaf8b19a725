"""The tester's parts on their own: a Disk stores exactly what a Ready asks for, the
Invariants name each broken safety property, and the Network loses what a cut link carries."""

from __future__ import annotations

import random
from typing import Any

import pytest

from distlab.systems.raft import Entry, HardState, Log, Message, Ready, Snapshot
from distlab.systems.raft.disk import Disk
from distlab.systems.raft.invariants import Invariants, SafetyViolation
from distlab.systems.raft.tester_net import Network


class FakeNode:
    """Just what the invariants read: a log and a status."""

    def __init__(self, entries: list[Entry], commit: int, role: str = "follower",
                 term: int = 1) -> None:
        self.log = Log(None, entries)
        self._status = {"role": role, "term": term, "commit": commit}

    def status(self) -> dict[str, Any]:
        return self._status


def test_disk_keeps_what_the_ready_says_and_reports_changes() -> None:
    d = Disk()
    assert d.write(Ready(hard_state=HardState(2, "s1"), entries=[Entry(1, 1, "a"), Entry(2, 1, "b")],
                         last_index=2)) is None
    assert d.persisted().hard == HardState(2, "s1") and len(d.persisted().entries) == 2
    assert d.write(Ready(entries=[Entry(2, 2, "c")], last_index=2)) == 2  # overwritten
    assert d.write(Ready(last_index=1)) == 2  # truncated after 1
    assert d.holds(1, 1, "a") and not d.holds(2, 2, "c")
    d.write(Ready(snapshot=Snapshot(1, 1, [[1, 1, "a"]])))
    assert 1 not in d.log and d.holds(1, 0, None) and d.size() == 1


def test_two_leaders_in_one_term() -> None:
    inv = Invariants(3)
    inv.election("s0", {"role": "leader", "term": 3})
    inv.election("s0", {"role": "leader", "term": 3})
    with pytest.raises(SafetyViolation, match="election safety: two leaders in term 3"):
        inv.election("s1", {"role": "leader", "term": 3})


def test_log_matching_and_committed_entries() -> None:
    inv = Invariants(3)
    inv.log("s0", FakeNode([Entry(1, 1, "a"), Entry(2, 1, "b")], commit=1))
    with pytest.raises(SafetyViolation, match="log matching"):
        inv.log("s1", FakeNode([Entry(1, 1, "a"), Entry(2, 1, "x")], commit=0))
    with pytest.raises(SafetyViolation, match="state machine safety"):
        inv.learn_committed("s2", 1, 1, "z")


def test_leader_completeness() -> None:
    inv = Invariants(3)
    inv.learn_committed("s0", 1, 1, "a")
    with pytest.raises(SafetyViolation, match="leader completeness: s1, leader of term 2"):
        inv.leader_completeness("s1", FakeNode([], commit=0, role="leader", term=2))


def test_durability_counts_disks() -> None:
    inv = Invariants(3)
    disks = [Disk(), Disk(), Disk()]
    disks[0].write(Ready(entries=[Entry(1, 1, "a")], last_index=1))
    inv.learn_committed("s0", 1, 1, "a")
    with pytest.raises(SafetyViolation, match="durability: committed entry 1 .* on 1 of 3 disks"):
        inv.durability(disks)
    disks[1].write(Ready(entries=[Entry(1, 1, "a")], last_index=1))
    inv.durability(disks)
    assert inv.durable_to == 1
    inv.disk_changed(disks[1].write(Ready(last_index=0)) or 0)
    with pytest.raises(SafetyViolation, match="on 1 of 3 disks"):
        inv.durability(disks)


def test_network_cut_and_held_links() -> None:
    net = Network(["a", "b"], random.Random(0))
    net.send(Message("append", "a", "b", 1), now=0)
    assert net.pop_due(0) is not None and net.pop_due(0) is None
    net.disconnect("b")
    net.send(Message("append", "a", "b", 1), now=0)
    assert net.pop_due(5) is None  # lost on the cut link
    net.connect("b")
    net.hold("a")
    net.send(Message("append", "a", "b", 1, reject=True), now=1)
    assert net.pop_due(5) is None
    assert net.release("a", now=2) == 1 and net.pop_due(2) is not None
    assert net.rpcs == {"append": 3, "append/reject": 1} and net.bytes_sent > 0
