"""TinyKV project 3A's Raft tests (raft/raft_test.go in talent-plan/tinykv, themselves
from etcd-io/raft) as tester scenarios: leader transfer and one-server membership change,
on a cluster whose safety the tester checks after every tick.

TinyKV's tests drive one Raft by hand, message by message; these drive a whole cluster
through the tester, so they run on any Raft with the optional `transfer_leader(target)`
and `members` (see interface.py), distlab's core or a learner's. Each keeps its test's
intent and checks its outcome: who leads after a transfer, what commits after a
removal, whom a quorum counts. The code and wording are distlab's own.

Conventions (the contract in interface.py): a transfer or a change is asked of a server
with `transfer_leader(target)` / `propose(conf_change(op, node))`; a server that is not
the leader raises NotLeader (naming the leader if it knows it) or returns None; a leader
may refuse a transfer to a server that is not a voter with ValueError, and a change with
ConfChangeRefused (or None) while another is uncommitted. In membership scenarios the
tester builds every server with the initial configuration as `peers`, so a server
outside it sees its own id missing and is not a voter until a change adds it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from distlab.systems.raft.core import Config, NotLeader, conf_change
from distlab.systems.raft.tester import Cluster, Factory

Raft = Config | Factory | None

# A transfer to an up-to-date follower takes a round trip or two; an election at least
# an election timeout (10-20 ticks). Within this many ticks the target must lead.
TRANSFER_TICKS = 5
REFUSED = (NotLeader, ValueError)  # ConfChangeRefused is a ValueError


def cluster(n: int, seed: int, raft: Raft, **kw: Any) -> Cluster:
    if raft is None or isinstance(raft, Config):
        return Cluster(n, seed, config=raft, **kw)
    return Cluster(n, seed, factory=raft, **kw)


def warm_up(c: Cluster, voters: int) -> str:
    """Elect a leader and commit an entry of its term on every voter; return the leader."""
    c.one("warm-up", voters)
    return c.check_one_leader()


def others(c: Cluster, *but: str) -> list[str]:
    return [i for i in c.ids if i not in but]


def members(c: Cluster, i: str) -> set[str]:
    return set(c.node(i).members)


def role_term(c: Cluster, i: str) -> tuple[Any, int]:
    st = c.status(i)
    return st["role"], st["term"]


def ask_transfer(c: Cluster, via: str, target: str, hops: int = 3) -> bool:
    """Ask `via` to hand leadership to `target`; a follower's NotLeader is passed on to the
    leader it names, as a client would. False if the leader refused (ValueError)."""
    try:
        c.node(via).transfer_leader(target)
    except NotLeader as exc:
        c.pump(via)
        hint = exc.leader
        if hops == 0 or hint is None or hint == via or hint not in c.nodes or not c.alive(hint):
            return False
        return ask_transfer(c, hint, target, hops - 1)
    except ValueError:
        c.pump(via)
        return False
    c.pump(via)
    return True


def expect_leader(c: Cluster, target: str, asked: str, ticks: int = TRANSFER_TICKS,
                  why: str = "") -> None:
    """`target` must lead within `ticks` of the transfer asked of `asked`."""
    for _ in range(ticks):
        c.step()
        if c.is_leader(target):
            return
    leaders = [i for i in c.ids if c.alive(i) and c.is_leader(i)]
    now = f"{leaders[0]} leads" if leaders else "nobody leads"
    raise AssertionError(f"{target} did not take over within {ticks} ticks of "
                         f"transfer_leader({target}) asked of {asked} ({now}; an election "
                         f"alone takes 10 ticks or more){why}")


def still_leads(c: Cluster, leader: str, term: int, what: str) -> None:
    """After `what`, `leader` still leads in `term` and takes (and commits) a command."""
    c.step(TRANSFER_TICKS)
    if not c.is_leader(leader) or c.status(leader)["term"] != term:
        role, now = role_term(c, leader)
        raise AssertionError(f"after {what}, {leader} is {role} in term {now}: it should have "
                             f"stayed leader of term {term} (nothing to hand over)")
    index, _, ok = c.start_cmd(leader, f"after {what}")
    if not ok:
        raise AssertionError(f"after {what}, {leader} (still leader) refused a command: no "
                             "transfer may be left pending")
    c.wait(index, 2)


def change(c: Cluster, op: str, node: str, timeout: int = 400) -> int:
    """Have whoever leads commit `conf_change(op, node)`; retried through refusals and
    elections. Returns its index once every live member of the new configuration (and
    the leader that proposed it) has applied it."""
    deadline = c.now + timeout
    command = conf_change(op, node)
    while c.now < deadline:
        leader = c.check_one_leader(tries=40)
        try:
            index = c.node(leader).propose(command)
        except REFUSED:
            index = None
        if index is None or index < 1:
            c.step()
            continue
        c.pump(leader)
        for _ in range(60):
            c.step()
            here = [i for i in c.ids if c.alive(i) and c.connected[i] and index in c.applied[i]]
            if not here or c.applied[here[0]][index][1] != command:
                continue
            wanted = {leader} | {i for i in members(c, here[0]) if c.alive(i) and c.connected[i]}
            if wanted <= set(here) or (op == "remove" and wanted - {node} <= set(here)):
                return index
    raise AssertionError(f"could not {op} {node} within {timeout} ticks")


def committed_on(c: Cluster, index: int) -> list[str]:
    return [i for i in c.ids if c.alive(i) and index in c.applied[i]]


# ----- leader transfer ----------------------------------------------------------------
def transfer_to_up_to_date_node(seed: int = 1, raft: Raft = None, *,
                                from_follower: bool = False) -> None:
    """TestLeaderTransferToUpToDateNode3A: a follower with the leader's whole log is handed
    leadership, then hands it back; a client's command sent to the old leader just after
    it was asked must not leave the target's log behind (it is refused, or the transfer
    still completes)."""
    c = cluster(3, seed, raft)
    leader = warm_up(c, 3)
    target = others(c, leader)[0]
    term = c.status(leader)["term"]
    ask_transfer(c, target if from_follower else leader, target)
    # a busy client goes on sending the old leader commands
    during, _, took = c.start_cmd(leader, "during the transfer")
    expect_leader(c, target, target if from_follower else leader, why=(
        f"; {leader} took a command at index {during} after the transfer began, so {target}'s "
        "log fell behind: a leader stops taking commands while it hands over" if took else ""))
    assert c.status(target)["term"] > term, f"{target} leads in term {term}, the old leader's"
    c.one("under the new leader", 3)
    ask_transfer(c, leader if from_follower else target, leader)
    expect_leader(c, leader, leader if from_follower else target)
    c.one("back again", 3)


def transfer_to_slow_follower(seed: int = 1, raft: Raft = None, *, snapshot: bool = False) -> None:
    """TestLeaderTransferToSlowFollower3A (and ...AfterSnapshot3A, where the leader has
    compacted its log past the follower's end, so it must send a snapshot first): the
    target missed entries, so the leader must bring its log up to date before telling it
    to campaign, or it stands with a stale log and loses."""
    c = cluster(3, seed, raft, snapshot_every=3 if snapshot else None)
    leader = warm_up(c, 3)
    target = others(c, leader)[0]
    c.disconnect(target)  # briefly: a few ticks, less than its election timeout
    for k in range(4):
        c.one(f"missed {k}", 2)
    c.connect(target)
    behind, ahead = c.node(target).log.last_index, c.node(leader).log.last_index
    assert behind < ahead, f"{target} caught up before the transfer: the scenario tests nothing"
    if snapshot:
        assert c.node(leader).log.snapshot_index > behind, (
            f"{leader} did not compact past {target}'s log end: the scenario tests nothing")
    installed = c.snapshots_installed
    ask_transfer(c, leader, target)
    expect_leader(c, target, leader, why=(
        f"; when asked, {target}'s log ended at {behind} and {leader}'s at {ahead}: the leader "
        f"must first bring the target's log up to date ({'by a snapshot, ' if snapshot else ''}"
        f"then send it TimeoutNow), else it campaigns with a stale log and loses"))
    if snapshot:
        assert c.snapshots_installed > installed, f"{target} took over without the snapshot"
    c.one("after the transfer", 3)


def transfer_from_follower(seed: int = 1, raft: Raft = None) -> None:
    """TestLeaderTransferToUpToDateNodeFromFollower3A: as ...ToUpToDateNode3A, but each
    request goes to the follower that is to lead; it passes it on to the leader."""
    transfer_to_up_to_date_node(seed, raft, from_follower=True)


def transfer_after_snapshot(seed: int = 1, raft: Raft = None) -> None:
    """TestLeaderTransferAfterSnapshot3A: the target lags behind the leader's snapshot, so
    the leader must install the snapshot on it before handing over."""
    transfer_to_slow_follower(seed, raft, snapshot=True)


def transfer_to_self(seed: int = 1, raft: Raft = None) -> None:
    """TestLeaderTransferToSelf3A: asking the leader to hand over to itself changes
    nothing; it keeps leading and taking commands."""
    c = cluster(3, seed, raft)
    leader = warm_up(c, 3)
    term = c.status(leader)["term"]
    ask_transfer(c, leader, leader)
    still_leads(c, leader, term, f"transfer_leader({leader}) on {leader} itself")


def transfer_to_non_existing_node(seed: int = 1, raft: Raft = None) -> None:
    """TestLeaderTransferToNonExistingNode3A: a transfer to a server that does not exist is
    refused or ignored; the leader keeps leading and taking commands."""
    c = cluster(3, seed, raft)
    leader = warm_up(c, 3)
    term = c.status(leader)["term"]
    ask_transfer(c, leader, "s9")
    still_leads(c, leader, term, f"transfer_leader('s9') (no such server) on {leader}")


def transfer_receive_higher_term_vote(seed: int = 1, raft: Raft = None) -> None:
    """TestLeaderTransferReceiveHigherTermVote3A: with a transfer pending (to a server cut
    off), the others elect a new leader in a higher term; the old leader must step down
    for it, transfer or not, and the cut-off target must not take over later."""
    c = cluster(5, seed, raft)
    leader = warm_up(c, 5)
    target = others(c, leader)[0]
    c.disconnect(target)
    term = c.status(leader)["term"]
    ask_transfer(c, leader, target)
    c.pause(leader)  # the others hear nothing from it: they elect a new leader
    for _ in range(200):
        c.step()
        if any(c.is_leader(i) for i in others(c, leader, target)):
            break
    new = c.check_one_leader(tries=1, ticks=1)
    c.resume(leader)
    c.step(TRANSFER_TICKS)
    role, now = role_term(c, leader)
    assert not c.is_leader(leader) and now > term, (
        f"{leader} is {role} in term {now} after {new} was elected in a higher term: a "
        "pending transfer must not keep a leader from stepping down")
    c.connect(target)
    c.one("after the election", 5)
    assert not c.is_leader(target), f"{target} took over after the transfer was overtaken"


def transfer_remove_node(seed: int = 1, raft: Raft = None) -> None:
    """TestLeaderTransferRemoveNode3A: once a server is removed, a transfer to it is
    refused or ignored; the leader keeps leading and taking commands."""
    c = cluster(3, seed, raft)
    leader = warm_up(c, 3)
    gone = others(c, leader)[0]
    change(c, "remove", gone)
    c.crash(gone)  # a removed server is shut down
    leader = c.check_one_leader()
    term = c.status(leader)["term"]
    ask_transfer(c, leader, gone)
    still_leads(c, leader, term, f"transfer_leader({gone}) on {leader}, {gone} being removed")


def transfer_back(seed: int = 1, raft: Raft = None) -> None:
    """TestLeaderTransferBack3A: with a transfer pending (to a server cut off), a transfer
    back to the leader itself cancels it: the leader takes commands again at once."""
    c = cluster(3, seed, raft)
    leader = warm_up(c, 3)
    target = others(c, leader)[0]
    c.disconnect(target)
    term = c.status(leader)["term"]
    ask_transfer(c, leader, target)
    ask_transfer(c, leader, leader)
    index, _, ok = c.start_cmd(leader, "right after the transfer back")
    assert ok, (f"{leader} refused a command right after transfer_leader({leader}): handing "
                f"leadership back to itself must cancel the pending transfer to {target}")
    assert c.wait(index, 2) is not None
    still_leads(c, leader, term, f"transfer_leader({leader}) cancelled the one to {target}")


def transfer_second_to_another_node(seed: int = 1, raft: Raft = None) -> None:
    """TestLeaderTransferSecondTransferToAnotherNode3A: with a transfer pending (to a
    server cut off), a transfer to another, up-to-date follower replaces it and succeeds."""
    c = cluster(3, seed, raft)
    leader = warm_up(c, 3)
    first, second = others(c, leader)
    c.disconnect(first)
    ask_transfer(c, leader, first)
    ask_transfer(c, leader, second)
    expect_leader(c, second, leader, why=f" (a transfer to {first} was pending)")


def transfer_second_to_same_node(seed: int = 1, raft: Raft = None, every: int = 8,
                                 window: int = 60) -> None:
    """etcd's TestLeaderTransferSecondTransferToSameNode: a transfer that has not completed
    within an election timeout is given up, and the leader takes commands again;
    repeating the request for the same target (every `every` ticks here) must not push
    that deadline back, else a client retrying keeps the leader refusing commands."""
    c = cluster(3, seed, raft)
    leader = warm_up(c, 3)
    target = others(c, leader)[0]
    c.disconnect(target)
    term = c.status(leader)["term"]
    for tick in range(window):
        if tick % every == 0:
            ask_transfer(c, leader, target)
        index, _, ok = c.start_cmd(leader, f"t{tick}")
        if ok and tick > 0:
            assert c.wait(index, 2) is not None
            return
        c.step()
        assert c.is_leader(leader) and c.status(leader)["term"] == term, (
            f"{leader} lost leadership while its transfer to the cut-off {target} was pending")
    raise AssertionError(f"{leader} refused every command for {window} ticks while "
                         f"transfer_leader({target}) was repeated every {every} ticks ({target} "
                         "cut off): a transfer not done within an election timeout must be "
                         "given up, and a repeated request must not restart that timeout")


def transfer_non_member(seed: int = 1, raft: Raft = None) -> None:
    """TestTransferNonMember3A: a server outside the configuration is never handed
    leadership and never stands for election: a transfer to it is refused or ignored."""
    c = cluster(4, seed, raft, voters=3)
    outsider = "s3"
    leader = warm_up(c, 3)
    term = c.status(leader)["term"]
    before = role_term(c, outsider)
    ask_transfer(c, leader, outsider)
    for _ in range(60):
        c.step()
        assert role_term(c, outsider) == before, (
            f"{outsider}, not a voter, went from {before[0]} in term {before[1]} to "
            f"{role_term(c, outsider)[0]} in term {role_term(c, outsider)[1]}: a server outside "
            "the configuration must never stand for election")
    still_leads(c, leader, term, f"transfer_leader({outsider}) to a non-voter on {leader}")


# ----- membership change ------------------------------------------------------------------
def add_node(seed: int = 1, raft: Raft = None) -> None:
    """TestAddNode3A: two servers are added one at a time; each is caught up, every server
    then reports the five voters, and the added ones count in the quorum."""
    c = cluster(5, seed, raft, voters=3)
    leader = warm_up(c, 3)
    for new in ("s3", "s4"):
        change(c, "add", new)
    c.one("with five", 5)
    for i in c.ids:
        assert members(c, i) == set(c.ids), f"{i} reports voters {sorted(members(c, i))}"
    leader = c.check_one_leader()
    old = [i for i in ("s0", "s1", "s2") if i != leader]
    for i in old:
        c.disconnect(i)
    index, _, ok = c.start_cmd(leader, "added ones count")
    assert ok, f"{leader} refused a command"
    for _ in range(20):
        c.step()
        if len(committed_on(c, index)) >= 3:
            break
    else:
        raise AssertionError(f"entry {index} is stored on {leader}, s3 and s4, a majority of the "
                             "five voters, but was not committed: the added servers' "
                             "acknowledgements must count")
    for i in old:
        c.connect(i)
    c.one("all back", 5)


def remove_node(seed: int = 1, raft: Raft = None) -> None:
    """TestRemoveNode3A: a follower is removed, then the leader itself. A removed server's
    acknowledgements no longer count, and the last server left leads on its own."""
    c = cluster(3, seed, raft)
    c.quorum_from_leader = True  # durability: three voters, then two, then one
    leader = warm_up(c, 3)
    gone, stays = others(c, leader)
    change(c, "remove", gone)
    for i in (leader, stays):
        assert members(c, i) == {leader, stays}, f"{i} reports voters {sorted(members(c, i))}"
    c.disconnect(stays)  # the leader can now reach only the removed server
    index, _, ok = c.start_cmd(leader, "needs the other voter")
    assert ok, f"{leader} refused a command"
    c.step(30)
    holders = committed_on(c, index)
    assert not holders, (f"entry {index} was committed ({', '.join(holders)} applied it) while "
                         f"the only other voter, {stays}, was cut off: the removed {gone} still "
                         "counts towards the quorum")
    c.connect(stays)
    c.one("with two", 2)
    c.crash(gone)  # a removed server is shut down
    leader = c.check_one_leader()
    last = others(c, leader, gone)[0]
    change(c, "remove", leader)
    c.check_one_leader(tries=10)
    assert c.is_leader(last), f"{last}, the only voter left, does not lead"
    assert members(c, last) == {last}, f"{last} reports voters {sorted(members(c, last))}"
    index = c.one("alone", 1)
    assert index in c.applied[last]


def commit_after_remove_node(seed: int = 1, raft: Raft = None) -> None:
    """TestCommitAfterRemoveNode3A: removing a server lowers the quorum, so entries that a
    majority of the remaining voters hold commit, without the removed one."""
    c = cluster(4, seed, raft)
    # durability needs a majority of four voters until the removal takes effect, then of
    # three: a fixed 3 from the start would accept entries on two disks of four voters
    c.quorum_from_leader = True
    leader = warm_up(c, 4)
    gone, a, b = others(c, leader)
    c.disconnect(gone)
    change(c, "remove", gone)
    c.disconnect(b)
    index, _, ok = c.start_cmd(leader, "hello")
    assert ok, f"{leader} refused a command"
    for _ in range(10):
        c.step()
        if len(committed_on(c, index)) >= 2:
            break
    else:
        raise AssertionError(f"'hello' at index {index} is stored on {leader} and {a}, a majority "
                             f"of the voters left after removing {gone}, but was not committed "
                             f"within 10 ticks: the removed {gone} still counts towards the quorum")
    c.connect(b)
    c.one("three again", 3)


def removed_server_votes(seed: int = 1, raft: Raft = None) -> None:
    """distlab's addition to the 3A membership tests: a removed server that is still
    running (it never learns of its removal) must not help anyone win an election. After
    a follower of four is removed, the three voters are split: the leader with one of
    them, the third with the removed server. The third may ask for votes, but the removed
    server's vote does not count, so the third never leads."""
    c = cluster(4, seed, raft)
    c.quorum_from_leader = True
    leader = warm_up(c, 4)
    gone, a, b = others(c, leader)
    change(c, "remove", gone)
    for x in (leader, a):
        for y in (b, gone):
            c.cut(x, y)
    for _ in range(80):
        c.step()
        if c.is_leader(b):
            raise AssertionError(
                f"{b} became leader with only its own vote and that of {gone}, which was "
                f"removed: votes count only from the voters of the configuration ({leader}, "
                f"{a}, {b}), never from a server outside it")
    c.heal()
    c.one("after the split", 3)


def step_ignore_config(seed: int = 1, raft: Raft = None) -> None:
    """etcd's TestStepIgnoreConfig (TinyKV's PendingConfIndex): while one membership change
    is uncommitted, a leader refuses (or ignores) another. Two changes in flight at once
    let configurations two servers apart each elect a leader of their own."""
    c = cluster(5, seed, raft, voters=3)
    leader = warm_up(c, 3)
    node = c.node(leader)
    first = node.propose(conf_change("add", "s3"))
    assert first is not None and first >= 1, f"{leader} refused the first change"
    try:
        second = node.propose(conf_change("add", "s4"))
    except REFUSED:
        second = None
    c.pump(leader)
    c.one("settle", 3)
    if second is not None and second >= 1 and "s4" in members(c, leader):
        raise AssertionError(f"{leader} took a second membership change (add s4, index {second}) "
                             f"while the first (add s3, index {first}) was not committed, and both "
                             "took effect: one change at a time, or configurations two servers "
                             "apart can each elect a leader")
    assert "s3" in members(c, leader), "the first change (add s3) did not take effect"


def two_changes_in_flight(seed: int = 1, raft: Raft = None) -> None:
    """distlab's addition (the hazard of the Raft dissertation's Figure 4.3): the leader of
    three voters is cut off from the other two, but still reaches two new servers, and
    asks to add both. Were both changes in force at once, it would commit them with the
    new servers alone (3 of 5), while the two it cannot reach, still in the old
    configuration, elect a leader of their own (2 of 3) and commit a different entry at
    the same index: the tester's state machine safety check names it. One change at a
    time, the first addition needs one of the two cut-off voters, and nothing splits."""
    c = cluster(5, seed, raft, voters=3)
    leader = warm_up(c, 3)
    cut_off = [i for i in ("s0", "s1", "s2") if i != leader]
    for i in cut_off:
        c.cut(leader, i)
    node = c.node(leader)
    for new in ("s3", "s4"):
        try:
            node.propose(conf_change("add", new))
        except REFUSED:
            pass
        c.pump(leader)
    for _ in range(200):  # the two cut-off voters elect a leader between themselves
        c.step()
        if any(c.is_leader(i) for i in cut_off):
            break
    c.one("on their side", 2)
    c.heal()
    c.one("healed", 3, timeout=400)


def promotable(seed: int = 1, raft: Raft = None) -> None:
    """TestPromotable3A: a server outside the configuration never stands for election,
    however long it hears nothing; once added, it does."""
    c = cluster(4, seed, raft, voters=3)
    outsider = "s3"
    warm_up(c, 3)
    c.disconnect(outsider)
    before = role_term(c, outsider)
    for _ in range(60):
        c.step()
        assert role_term(c, outsider) == before, (
            f"{outsider}, not a voter, went from {before[0]} in term {before[1]} to "
            f"{role_term(c, outsider)[0]} in term {role_term(c, outsider)[1]} while cut off: a "
            "server outside the configuration must never stand for election")
    c.connect(outsider)
    change(c, "add", outsider)
    c.one("with four", 4)
    c.disconnect(outsider)
    before = role_term(c, outsider)
    for _ in range(60):
        c.step()
        if role_term(c, outsider) != before:
            break
    else:
        raise AssertionError(f"{outsider}, a voter since it was added, never stood for election "
                             "while cut off for 60 ticks")
    c.connect(outsider)
    c.one("all four", 4, timeout=400)


def raft_nodes(seed: int = 1, raft: Raft = None) -> None:
    """TestRaftNodes3A: every server reports the configuration it was started with, the
    servers outside it too, and the new one after a change."""
    c = cluster(4, seed, raft, voters=3)
    initial = {"s0", "s1", "s2"}
    for i in c.ids:
        assert members(c, i) == initial, f"{i} reports voters {sorted(members(c, i))}, not s0-s2"
    warm_up(c, 3)
    change(c, "add", "s3")
    c.one("with four", 4)
    for i in c.ids:
        assert members(c, i) == initial | {"s3"}, f"{i} reports voters {sorted(members(c, i))}"


# ----- distlab's own: both at once, under faults ------------------------------------------
def churn(seed: int = 1, raft: Raft = None, iters: int = 60) -> None:
    """distlab's addition: leaders handed over, servers removed and added back, some
    crashed and restarted, on a network that loses, duplicates and reorders messages,
    while clients keep proposing. No outcome is asked of any one step; the tester's
    safety checks hold on every tick, and at the end the servers left agree."""
    c = cluster(5, seed, raft, reliable=False)
    # durability against the configuration in force (five voters, four, three: the
    # tester's rule for a change's two sides), not three throughout, which let entries on
    # two disks of five voters pass
    c.quorum_from_leader = True
    rng = random.Random(seed)
    for k in range(iters):
        leader = next((i for i in c.ids if c.is_leader(i)), None)
        if leader is not None:
            node = c.node(leader)
            voters = set(node.members)
            r = rng.random()
            try:
                if r < 0.3:
                    ask_transfer(c, leader, rng.choice(sorted(voters - {leader}) or [leader]))
                elif r < 0.45 and len(voters) > 3:
                    node.propose(conf_change("remove", rng.choice(sorted(voters))))
                elif r < 0.6 and len(voters) < 5:
                    node.propose(conf_change("add", rng.choice(sorted(set(c.ids) - voters))))
            except REFUSED:
                pass
            c.pump(leader)
        for i in c.ids:
            if c.alive(i) and rng.random() < 0.3:
                c.start_cmd(i, f"c{k}.{i}")
        c.step(rng.randrange(1, 8))
        if k % 10 == 5:
            victim = rng.choice(c.ids)
            c.crash(victim)
            c.step(rng.randrange(1, 10))
            c.start(victim)
    c.heal()
    c.reliable = True
    c.one("settled", 3, timeout=600)
    leader = c.check_one_leader(tries=40)
    voters = set(c.node(leader).members)
    index = c.one("last", len(voters), timeout=600)
    for i in voters:
        assert index in c.applied[i], f"{i}, a voter, did not apply the last entry"


SCENARIOS_3A: dict[str, Callable[..., None]] = {
    "3a_add_node": add_node,
    "3a_remove_node": remove_node,
    "3a_commit_after_remove_node": commit_after_remove_node,
    "3a_removed_server_votes": removed_server_votes,
    "3a_step_ignore_config": step_ignore_config,
    "3a_two_changes_in_flight": two_changes_in_flight,
    "3a_promotable": promotable,
    "3a_raft_nodes": raft_nodes,
    "3a_leader_transfer_to_up_to_date_node": transfer_to_up_to_date_node,
    "3a_leader_transfer_to_up_to_date_node_from_follower": transfer_from_follower,
    "3a_leader_transfer_to_slow_follower": transfer_to_slow_follower,
    "3a_leader_transfer_after_snapshot": transfer_after_snapshot,
    "3a_leader_transfer_to_self": transfer_to_self,
    "3a_leader_transfer_to_non_existing_node": transfer_to_non_existing_node,
    "3a_leader_transfer_receive_higher_term_vote": transfer_receive_higher_term_vote,
    "3a_leader_transfer_remove_node": transfer_remove_node,
    "3a_leader_transfer_back": transfer_back,
    "3a_leader_transfer_second_transfer_to_another_node": transfer_second_to_another_node,
    "3a_leader_transfer_second_transfer_to_same_node": transfer_second_to_same_node,
    "3a_transfer_non_member": transfer_non_member,
    "3a_transfer_and_conf_change_churn": churn,
}

# what each needs beyond RaftLike (interface.py's optional members)
_MEMBERSHIP = ("members",)
_TRANSFER = ("transfer_leader",)
NEEDS_3A: dict[str, tuple[str, ...]] = {
    name: _MEMBERSHIP if "transfer" not in name else _TRANSFER for name in SCENARIOS_3A
}
for _name in ("3a_leader_transfer_remove_node", "3a_transfer_non_member",
              "3a_transfer_and_conf_change_churn"):
    NEEDS_3A[_name] = _TRANSFER + _MEMBERSHIP
NEEDS_3A["3a_leader_transfer_after_snapshot"] = (*_TRANSFER, "compact")
