"""MIT 6.824's Raft lab scenarios (2A election, 2B log, 2C persistence, 2D snapshots,
and a ReadIndex read from the KV lab) and TinyKV's 3A (leader transfer, membership
change; in scenarios_3a.py), run by the deterministic tester in
`distlab.systems.raft.tester`; plus a few of distlab's own where 6.824's leave a classic
bug uncaught.

Each scenario is named after the 6.824 test whose intent it reproduces (the code is our
own) and is a function `scenario(seed=1, raft=None)`: `raft` is a `Config` for distlab's
RaftCore (mutants included), or a factory for your own Raft (see the tester's docstring;
`distlab raft-test module:factory` runs them all on it). The tester checks Raft's safety
properties after every tick, so a scenario fails on a violation even if its outcome
looks right; it raises AssertionError (SafetyViolation for safety). A tick stands for
~50 ms (election timeouts are 10-20 ticks).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial
from typing import Any

from distlab.systems.raft.core import Config
from distlab.systems.raft.scenarios_3a import NEEDS_3A, SCENARIOS_3A
from distlab.systems.raft.tester import Cluster, Factory

Raft = Config | Factory | None  # what a scenario runs: distlab's core as configured, or yours

def cluster(n: int, seed: int, raft: Raft, **kw: Any) -> Cluster:
    """A tester cluster running `raft`: distlab's core with a Config, or your factory."""
    if raft is None or isinstance(raft, Config):
        return Cluster(n, seed, config=raft, **kw)
    return Cluster(n, seed, factory=raft, **kw)


# ----- 2A: leader election -------------------------------------------------------------
def initial_election(seed: int = 1, raft: Raft = None) -> None:
    c = cluster(3, seed, raft)
    c.check_one_leader()
    term1 = c.check_terms()
    assert term1 >= 1
    c.step(40)  # with no failures, the leader keeps its term
    assert c.check_terms() == term1
    c.check_one_leader()


def re_election(seed: int = 1, raft: Raft = None) -> None:
    c = cluster(3, seed, raft)
    leader1 = c.check_one_leader()
    c.disconnect(leader1)  # a new leader is elected
    c.check_one_leader()
    c.connect(leader1)  # the old leader rejoins: it must not disturb the new one
    leader2 = c.check_one_leader()
    c.disconnect(leader2)
    c.disconnect(c.ids[(c.ids.index(leader2) + 1) % 3])
    c.step(40)  # no quorum: no leader among the connected
    c.check_no_leader()
    c.connect(c.ids[(c.ids.index(leader2) + 1) % 3])  # quorum again
    c.check_one_leader()
    c.connect(leader2)
    c.check_one_leader()


def many_elections(seed: int = 1, raft: Raft = None, iters: int = 10) -> None:
    c = cluster(7, seed, raft)
    c.check_one_leader()
    rng = random.Random(seed)
    for _ in range(iters):
        out = rng.sample(c.ids, 3)  # 4 of 7 stay connected: a quorum
        for i in out:
            c.disconnect(i)
        c.check_one_leader()
        for i in out:
            c.connect(i)
    c.check_one_leader()


def slow_network_elections(seed: int = 1, raft: Raft = None, rounds: int = 15,
                           latency: int = 1) -> None:
    """distlab's addition to 2A: leaders crash again and again on a network where every
    message takes a tick, so an election is not over in an instant. Once a new leader is
    elected, nothing may unseat it while no further fault happens: a voter that did not
    restart its election timer when it granted its vote times out before the new
    leader's first heartbeat reaches it, and starts a needless election."""
    c = cluster(5, seed, raft, latency=latency)
    leader = c.check_one_leader()
    for _ in range(rounds):
        c.crash(leader)
        new = c.check_one_leader()
        term = c.status(new)["term"]
        c.step(60)
        now = c.check_one_leader(tries=1, ticks=1)
        assert (now, c.status(now)["term"]) == (new, term), (
            f"{new}, leader of term {term}, was unseated with no fault (now {now}, term "
            f"{c.status(now)['term']})")
        c.start(leader)
        c.step(40)
        leader = c.check_one_leader()


# ----- 2B: log replication --------------------------------------------------------------
def basic_agree(seed: int = 1, raft: Raft = None) -> None:
    c = cluster(3, seed, raft)
    last = 0
    for cmd in range(100, 103):
        count, before = c.n_committed(last + 1)
        assert count == 0 or before is None, "a command was committed before Start"
        index = c.one(cmd, 3, retry=False)
        assert index > last
        last = index


def fail_agree(seed: int = 1, raft: Raft = None) -> None:
    c = cluster(3, seed, raft)
    c.one(101, 3)
    leader = c.check_one_leader()
    follower = c.ids[(c.ids.index(leader) + 1) % 3]
    c.disconnect(follower)
    for cmd in (102, 103, 104, 105):  # the leader and the other follower agree
        c.one(cmd, 2)
    c.connect(follower)
    c.one(106, 3)  # the reconnected follower catches up
    c.one(107, 3)


def fail_no_agree(seed: int = 1, raft: Raft = None) -> None:
    c = cluster(5, seed, raft)
    c.one(10, 5)
    leader = c.check_one_leader()
    k = c.ids.index(leader)
    cut = [c.ids[(k + d) % 5] for d in (1, 2, 3)]
    for i in cut:
        c.disconnect(i)
    index, _, ok = c.start_cmd(leader, 20)
    assert ok
    c.step(40)
    count, _ = c.n_committed(index)
    assert count == 0, f"{count} committed without a majority"
    for i in cut:
        c.connect(i)
    leader2 = c.check_one_leader()
    index2, _, ok2 = c.start_cmd(leader2, 30)
    assert ok2
    c.wait(index2, 5)
    c.one(1000, 5)


def follower_failure(seed: int = 1, raft: Raft = None) -> None:
    """Losing one follower of three still commits; losing both stops commits."""
    c = cluster(3, seed, raft)
    c.one(101, 3)
    leader1 = c.check_one_leader()
    c.disconnect(next(i for i in c.ids if i != leader1))
    c.one(102, 2)
    c.step(20)
    c.one(103, 2)
    leader2 = c.check_one_leader()
    for i in c.ids:
        if i != leader2:
            c.disconnect(i)
    index, _, ok = c.start_cmd(leader2, 104)
    assert ok
    c.step(40)
    count, _ = c.n_committed(index)
    assert count == 0, f"{count} committed without a majority"


def leader_failure(seed: int = 1, raft: Raft = None) -> None:
    """A new leader takes over from a lost one; with only one node left, nothing commits."""
    c = cluster(3, seed, raft)
    c.one(101, 3)
    leader1 = c.check_one_leader()
    c.disconnect(leader1)
    c.one(102, 2)
    c.step(20)
    c.one(103, 2)
    leader2 = c.check_one_leader()
    c.disconnect(leader2)
    indexes = []
    for i in c.ids:
        index, _, ok = c.start_cmd(i, 104)
        if ok:
            indexes.append(index)
    c.step(40)
    for index in indexes or [4]:
        count, _ = c.n_committed(index)
        assert count == 0, f"{count} committed without a majority"


def rpc_bytes(seed: int = 1, raft: Raft = None) -> None:
    """Each command crosses the wire about once per follower, not again and again."""
    c = cluster(3, seed, raft)
    c.one(99, 3)
    before = c.bytes_sent
    total = 0
    for k in range(10):
        cmd = f"{k}:" + "x" * 5000
        c.one(cmd, 3)
        total += len(cmd)
    sent = c.bytes_sent - before
    assert total * 2 <= sent <= total * 2 + 50_000, f"{sent} bytes sent for {total} bytes of commands"


def concurrent_starts(seed: int = 1, raft: Raft = None) -> None:
    c = cluster(3, seed, raft)
    for _attempt in range(5):
        leader = c.check_one_leader()
        term = c.status(leader)["term"]
        indexes = []
        for cmd in range(100, 105):  # five Starts in the same tick, no waiting in between
            index, t, ok = c.start_cmd(leader, cmd)
            if not ok or t != term:
                break
            indexes.append(index)
        else:
            got = {c.wait(index, 3, term) for index in indexes}
            if None in got:
                continue  # the term changed under us: try again
            assert got == set(range(100, 105))
            return
    raise AssertionError("leader kept changing")


def rejoin(seed: int = 1, raft: Raft = None) -> None:
    c = cluster(3, seed, raft)
    c.one(101, 3)
    leader1 = c.check_one_leader()
    c.disconnect(leader1)
    for cmd in (102, 103, 104):  # the old leader takes commands it can never commit
        c.start_cmd(leader1, cmd)
    c.one(103, 2)  # the new leader commits index 2 (and on) without it
    leader2 = c.check_one_leader()
    c.disconnect(leader2)
    c.connect(leader1)  # the old leader comes back, with its uncommitted entries
    c.one(104, 2)
    c.connect(leader2)
    c.one(105, 3)


def election_restriction(seed: int = 1, raft: Raft = None, rounds: int = 6) -> None:
    """distlab's addition to 2B: a voter grants its vote only to a candidate whose log is
    at least as up to date as its own (§5.4.1). Each round one follower is cut off, an
    entry commits on the leader and the other follower, then the leader is cut off and
    the stale follower comes back: of the two left, only the one holding the entry may
    win, or a committed entry is lost."""
    c = cluster(3, seed, raft)
    c.one(0, 3)
    for r in range(1, rounds + 1):
        leader = c.check_one_leader()
        stale, fresh = [i for i in c.ids if i != leader]
        if r % 2:
            stale, fresh = fresh, stale
        c.disconnect(stale)
        c.one(r, 2)
        c.disconnect(leader)
        c.connect(stale)
        c.check_one_leader(tries=20)  # the tester's checks fail at once if `stale` leads
        c.connect(leader)
    c.one("end", 3)


def stale_leader_appends(seed: int = 1, raft: Raft = None, rounds: int = 5) -> None:
    """distlab's addition to 2B: a leader's outgoing link stalls just as it takes a
    command. The others elect a new leader, whose first entry takes the same index and
    is committed at once; then the old leader's AppendEntries, of an older term, arrive
    before the followers have heard of that commit. They must refuse them: obeying would
    replace an entry the new leader counted as committed with the old leader's command."""
    c = cluster(5, seed, raft)
    rng = random.Random(seed)
    for _ in range(rounds):
        c.one(rng.randrange(10**9), 5)
        old = c.check_one_leader()
        c.hold(old)
        c.start_cmd(old, rng.randrange(10**9))
        for _ in range(100):  # until someone else leads
            c.step()
            if any(c.is_leader(i) for i in c.ids if i != old):
                break
        c.release(old)
        c.step(20)
        c.one(rng.randrange(10**9), 5)


def backup(seed: int = 1, raft: Raft = None, reject_budget: int = 20) -> None:
    """6.824 TestBackup: a leader brings followers with long wrong logs back in line.

    With fast backup (conflict term and index) each follower needs about one rejected
    AppendEntries per conflicting term, not one per entry: at most `reject_budget`."""
    c = cluster(5, seed, raft)
    rng = random.Random(seed)
    c.one(rng.randrange(10**9), 5)
    leader1 = c.check_one_leader()
    k = c.ids.index(leader1)
    ring = [c.ids[(k + d) % 5] for d in range(5)]
    for i in ring[2:]:  # the leader and one follower in a minority
        c.disconnect(i)
    for _ in range(50):  # lots of entries that won't commit
        c.start_cmd(leader1, rng.randrange(10**9))
    c.step(10)
    c.disconnect(ring[0])
    c.disconnect(ring[1])
    for i in ring[2:]:  # the other three get a quorum and commit lots of entries
        c.connect(i)
    for _ in range(50):
        c.one(rng.randrange(10**9), 3)
    leader2 = c.check_one_leader()
    other = next(i for i in ring[2:] if i != leader2)
    c.disconnect(other)
    for _ in range(50):  # lots more entries that won't commit
        c.start_cmd(leader2, rng.randrange(10**9))
    c.step(10)
    for i in c.ids:
        c.disconnect(i)
    for i in (ring[0], ring[1], other):  # the original leader, its follower and `other`
        c.connect(i)
    before = c.rpcs["append_resp/reject"]
    for _ in range(50):
        c.one(rng.randrange(10**9), 3)
    for i in c.ids:
        c.connect(i)
    c.one(rng.randrange(10**9), 5)
    rejected = c.rpcs["append_resp/reject"] - before
    assert rejected <= reject_budget, (
        f"catching up took {rejected} rejected appends (budget {reject_budget})")


def backup_unknown_term(seed: int = 1, raft: Raft = None, reject_budget: int = 10) -> None:
    """distlab's addition to 2B: a follower's wrong entries are all of a term the leader
    never saw (its leader was cut off, with this follower alone, right after winning).
    Rejecting, the follower must say where that term starts in its log, so the leader
    skips the whole term at once: naming only prevLogIndex costs one round trip per entry."""
    c = cluster(5, seed, raft, latency=1)  # a tick per hop: the new leader's first entries can be cut off
    rng = random.Random(seed)
    c.one(rng.randrange(10**9), 5)
    old = c.check_one_leader()
    term = c.status(old)["term"]
    c.crash(old)
    new = None
    for _ in range(300):
        c.step()
        new = next((i for i in c.ids if c.alive(i) and c.is_leader(i)
                    and c.status(i)["term"] > term), None)
        if new is not None:
            break
    assert new is not None, f"no leader elected within 300 ticks after {old} crashed"
    mate, *rest = [i for i in c.ids if c.alive(i) and i != new]
    for i in rest:  # before anything of the new term reaches them
        c.disconnect(i)
    for _ in range(50):  # entries of the new term, on `new` and `mate` only
        c.start_cmd(new, rng.randrange(10**9))
    c.step(10)
    c.disconnect(new)
    c.disconnect(mate)
    c.start(old)
    for i in rest:
        c.connect(i)
    for _ in range(5):
        c.one(rng.randrange(10**9), 3)
    before = c.rpcs["append_resp/reject"]
    c.connect(mate)
    c.one(rng.randrange(10**9), 4)
    rejected = c.rpcs["append_resp/reject"] - before
    assert rejected <= reject_budget, (
        f"catching up took {rejected} rejected appends (budget {reject_budget}): the "
        "follower's wrong entries are all of one term the leader never saw")
    c.connect(new)
    c.one(rng.randrange(10**9), 5)


def count(seed: int = 1, raft: Raft = None) -> None:
    """6.824 TestCount: elections and agreement use a bounded number of RPCs."""
    c = cluster(3, seed, raft)
    c.check_one_leader()
    elect = sum(c.rpcs.values())
    assert 1 <= elect <= 60, f"too many or few messages to elect a leader: {elect}"
    for _attempt in range(3):
        leader = c.check_one_leader()
        term = c.status(leader)["term"]
        before = sum(c.rpcs.values())
        cmds = [random.Random(seed).randrange(10**9) + n for n in range(10)]
        indexes = []
        for cmd in cmds:
            index, t, ok = c.start_cmd(leader, cmd)
            if not ok or t != term:
                break
            indexes.append(index)
        if len(indexes) < len(cmds) or any(c.wait(i, 3, term) is None for i in indexes):
            continue
        used = sum(c.rpcs.values()) - before
        assert used <= (10 + 1 + 3) * 3 * 2, f"too many messages for 10 entries: {used}"
        break
    else:
        raise AssertionError("term changed too often")
    before = sum(c.rpcs.values())
    c.step(20)  # idle: heartbeats only (one round every 2 ticks, plus their replies)
    idle = sum(c.rpcs.values()) - before
    assert idle <= 20 // 2 * 2 * 2 * 2, f"too many messages while idle: {idle}"


# ----- 2C: persistence -----------------------------------------------------------------
def persist1(seed: int = 1, raft: Raft = None) -> None:
    c = cluster(3, seed, raft)
    c.one(11, 3)
    for i in c.ids:  # crash and restart everyone
        c.restart(i)
    c.one(12, 3)
    leader1 = c.check_one_leader()
    c.restart(leader1)
    c.one(13, 3)
    leader2 = c.check_one_leader()
    c.crash(leader2)
    c.one(14, 2)
    c.start(leader2)
    c.wait(4, 3)  # index 4 or later: everyone has caught up on something
    i3 = c.ids[(c.ids.index(c.check_one_leader()) + 1) % 3]
    c.crash(i3)
    c.one(15, 2)
    c.start(i3)
    c.one(16, 3)


def persist2(seed: int = 1, raft: Raft = None, iters: int = 5) -> None:
    c = cluster(5, seed, raft)
    index = 1
    for _ in range(iters):
        c.one(10 + index, 5)
        index += 1
        leader1 = c.check_one_leader()
        k = c.ids.index(leader1)
        a, b = c.ids[(k + 1) % 5], c.ids[(k + 2) % 5]
        c.crash(a)
        c.crash(b)
        c.one(10 + index, 3)
        index += 1
        x, y, z = c.ids[k], c.ids[(k + 3) % 5], c.ids[(k + 4) % 5]
        for i in (x, y, z):
            c.crash(i)
        c.start(a)
        c.start(b)
        c.step(20)
        c.start(y)
        c.one(10 + index, 3)
        index += 1
        c.start(x)
        c.start(z)
    c.one(1000, 5)


def persist3(seed: int = 1, raft: Raft = None) -> None:
    """A partitioned leader and one follower crash; the follower's vote must be remembered."""
    c = cluster(3, seed, raft)
    c.one(101, 3)
    leader = c.check_one_leader()
    k = c.ids.index(leader)
    f1, f2 = c.ids[(k + 1) % 3], c.ids[(k + 2) % 3]
    c.disconnect(f2)
    c.one(102, 2)
    c.crash(leader)
    c.crash(f1)
    c.connect(f2)
    c.start(leader)
    c.one(103, 2)
    c.start(f1)
    c.one(104, 3)


def persist_truncation(seed: int = 1, raft: Raft = None) -> None:
    """distlab's addition to the 2C tests: a truncation must reach the disk too. A follower
    stores five entries of a leader that then fails before committing them; the new
    leader's shorter log replaces them there; the follower crashes and restarts. If it
    stored the new entries but never cut its stored log where the old ones ended, it
    restarts with the old leader's entries after the new ones, which no leader wrote."""
    c = cluster(5, seed, raft)
    rng = random.Random(seed)
    c.one(rng.randrange(10**9), 5)
    old = c.check_one_leader()
    follower, *rest = [i for i in c.ids if i != old]
    for i in rest:
        c.disconnect(i)
    for _ in range(5):
        c.start_cmd(old, rng.randrange(10**9))  # on the old leader and one follower only
    c.step(5)
    c.crash(old)
    c.disconnect(follower)
    for i in rest:
        c.connect(i)
    c.one(rng.randrange(10**9), 3)  # the new leader: a no-op and one entry
    c.connect(follower)
    c.step(20)  # the follower's five entries are replaced by the new leader's two
    c.restart(follower)
    c.step(10)
    c.start(old)
    c.one(rng.randrange(10**9), 5)


def figure8(seed: int = 1, raft: Raft = None, iters: int = 200,
            reliable: bool = True) -> None:
    """6.824 TestFigure8: leaders crash right after Start, at random, again and again."""
    c = cluster(5, seed, raft, reliable=reliable)
    rng = random.Random(seed)
    c.one(rng.randrange(10**9), 1)
    up = 5
    for _ in range(iters):
        leader = None
        for i in c.ids:
            if c.alive(i) and c.start_cmd(i, rng.randrange(10**9))[2]:
                leader = i
        c.step(rng.randrange(1, 13) if rng.random() < 0.1 else rng.randrange(1, 3))
        if leader is not None and c.alive(leader):
            c.crash(leader)
            up -= 1
        if up < 3:
            s = rng.choice(c.ids)
            if not c.alive(s):
                c.start(s)
                up += 1
    c.heal()
    c.one(rng.randrange(10**9), 5, timeout=400)


def figure8_exact(seed: int = 1, raft: Raft = None) -> None:
    """distlab's addition to the 2C tests: Figure 8 of the Raft paper, step by step, with
    crashes and one cut link instead of luck. An entry X of term t reaches two servers;
    a server of the other three leads term t+1 and takes Y at X's index alone; one of
    X's holders leads a later term and copies X to a third server, a majority. A leader
    that now commits X by counting replicas (without an entry of its own term above it)
    is wrong: Y's holder, its last term higher, is elected next and overwrites X. 6.824's
    random Figure 8 tests reach this for a Raft without a no-op on election only on rare
    seeds; here every seed does."""
    c = cluster(5, seed, raft)
    rng = random.Random(seed)
    c.one(rng.randrange(10**9), 5)
    a = c.check_one_leader()
    b, *rest = [i for i in c.ids if i != a]
    rng.shuffle(rest)
    for i in rest:
        c.crash(i)
    c.start_cmd(a, rng.randrange(10**9))  # X: on a and b only
    c.step(5)
    c.crash(a)
    c.crash(b)
    for i in rest:
        c.start(i)
    l2 = c.check_one_leader(tries=20)
    m1, m2 = [i for i in rest if i != l2]
    c.crash(m1)
    c.crash(m2)
    c.start_cmd(l2, rng.randrange(10**9))  # Y: at X's index (or after it), on l2 alone
    c.step(5)
    c.crash(l2)
    for i in (a, b, m1):
        c.start(i)
    c.check_one_leader(tries=20)
    c.step(30)  # X reaches m1: a majority holds it, and it must stay uncommitted
    for i in (a, b):
        c.crash(i)
    c.start(l2)
    c.start(m2)
    c.cut(m1, m2)  # m1 (with X) cannot win m2's vote, so l2 (with Y) leads
    c.step(60)
    c.heal()
    c.one(rng.randrange(10**9), 5, timeout=400)


# ----- 2C: unreliable network and churn -----------------------------------------------
def unreliable_agree(seed: int = 1, raft: Raft = None) -> None:
    c = cluster(5, seed, raft, reliable=False)
    for it in range(1, 20):
        for j in range(4):  # concurrent clients, each proposing at whoever leads
            for i in c.ids:
                if c.alive(i):
                    c.start_cmd(i, 100 * it + j)
        c.one(it, 1, timeout=400)
    c.reliable = True
    c.one(100, 5, timeout=400)


def figure8_unreliable(seed: int = 1, raft: Raft = None, iters: int = 400) -> None:
    """6.824 TestFigure8Unreliable: lossy, reordering network; leaders cut off at random."""
    c = cluster(5, seed, raft, reliable=False)
    rng = random.Random(seed)
    c.one(rng.randrange(10**4), 1, timeout=400)
    nup = 5
    for _ in range(iters):
        leader = None
        for i in c.ids:
            if c.start_cmd(i, rng.randrange(10**4))[2] and c.connected[i]:
                leader = i
        c.step(rng.randrange(1, 13) if rng.random() < 0.1 else rng.randrange(1, 3))
        if leader is not None and rng.random() < 0.5:
            c.disconnect(leader)
            nup -= 1
        if nup < 3:
            s = rng.choice(c.ids)
            if not c.connected[s]:
                c.connect(s)
                nup += 1
    c.heal()
    c.one(rng.randrange(10**4), 5, timeout=600)


def churn(seed: int = 1, raft: Raft = None, reliable: bool = True,
          iters: int = 300) -> None:
    """6.824 TestReliableChurn / TestUnreliableChurn: crash, restart, cut off, reconnect at
    random while clients keep proposing; everything committed must agree at the end."""
    c = cluster(5, seed, raft, reliable=reliable)
    rng = random.Random(seed)
    proposed: set[int] = set()
    for _ in range(iters):
        for i in c.ids:  # a few clients propose at whoever claims to lead
            if c.alive(i) and c.connected[i] and rng.random() < 0.5:
                cmd = rng.randrange(10**9)
                if c.start_cmd(i, cmd)[2]:
                    proposed.add(cmd)
        c.step(rng.randrange(1, 4))
        s = rng.choice(c.ids)
        r = rng.random()
        if r < 0.2:
            c.disconnect(s)
        elif r < 0.5:
            c.connect(s)
        elif r < 0.6 and c.alive(s):
            c.crash(s)
        elif r < 0.7 and c.alive(s):
            c.restart(s)  # kill -9 and an immediate restart by a supervisor
        elif r < 0.9 and not c.alive(s):
            c.start(s)
        down = sum(1 for i in c.ids if not c.alive(i) or not c.connected[i])
        if down > 2:  # 6.824 keeps a majority up most of the time too
            for i in c.ids:
                if not c.alive(i):
                    c.start(i)
                    break
            else:
                c.connect(next(i for i in c.ids if not c.connected[i]))
    c.heal()
    c.reliable = True
    last = c.one(rng.randrange(10**9), 5, timeout=600)
    for index in range(1, last + 1):
        _, cmd = c.n_committed(index)
        assert cmd is None or cmd in proposed or index == last


def election_restarts(seed: int = 1, raft: Raft = None, ticks: int = 200) -> None:
    """distlab's addition to the 2C tests: kill -9 during elections. A follower is
    restarted right after it handles a message half of the time (so right after it
    persisted and granted a vote, among others), and a leader now and then. Term and
    vote must survive a restart, or a node votes twice in one term and two leaders are
    elected."""
    c = cluster(5, seed, raft)
    rng = random.Random(seed)
    c.restart_after_message = 0.5
    for _ in range(ticks):
        c.step()
        for i in c.ids:
            if c.is_leader(i) and rng.random() < 0.1:
                c.restart(i)
    c.restart_after_message = 0.0
    c.heal()
    c.one(rng.randrange(10**9), 5, timeout=600)


# ----- 2D: snapshots -------------------------------------------------------------------
def snap_common(seed: int = 1, raft: Raft = None, *, disconnect: bool,
                reliable: bool, crash: bool, iters: int = 15) -> Cluster:
    """6.824's snapcommon: a victim misses many entries, then must be caught up by an
    InstallSnapshot (the leader compacted its log); stored state stays bounded."""
    c = cluster(3, seed, raft, reliable=reliable, snapshot_every=10)
    rng = random.Random(seed)
    c.one(rng.randrange(10**9), 3, timeout=400)
    leader1 = c.check_one_leader()
    for it in range(iters):
        victim = c.ids[(c.ids.index(leader1) + 1) % 3]
        sender = leader1
        if it % 3 == 1:
            sender, victim = victim, sender
        if disconnect:
            c.disconnect(victim)
            c.one(rng.randrange(10**9), 2, timeout=400)
        if crash:
            c.crash(victim)
            c.one(rng.randrange(10**9), 2, timeout=400)
        for _ in range(11):  # enough to get a snapshot past the victim
            c.start_cmd(sender, rng.randrange(10**9))
        c.one(rng.randrange(10**9), 2, timeout=400)  # make sure they are committed
        assert c.max_log_size() <= 10 * 2 + 30, f"stored log too large: {c.max_log_size()}"
        if disconnect:
            c.connect(victim)  # needs InstallSnapshot: the leader has compacted past it
            c.one(rng.randrange(10**9), 3, timeout=400)
            leader1 = c.check_one_leader()
        if crash:
            c.start(victim)
            c.one(rng.randrange(10**9), 3, timeout=400)
            leader1 = c.check_one_leader()
    return c


def snapshot_basic(seed: int = 1, raft: Raft = None) -> None:
    snap_common(seed, raft, disconnect=False, reliable=True, crash=False)


def snapshot_install(seed: int = 1, raft: Raft = None) -> None:
    c = snap_common(seed, raft, disconnect=True, reliable=True, crash=False)
    assert c.snapshots_installed > 0, "no InstallSnapshot was needed: the scenario tests nothing"


def snapshot_install_unreliable(seed: int = 1, raft: Raft = None) -> None:
    c = snap_common(seed, raft, disconnect=True, reliable=False, crash=False)
    assert c.snapshots_installed > 0, "no InstallSnapshot was needed: the scenario tests nothing"


def snapshot_install_crash(seed: int = 1, raft: Raft = None) -> None:
    c = snap_common(seed, raft, disconnect=False, reliable=True, crash=True)
    assert c.snapshots_installed > 0, "no InstallSnapshot was needed: the scenario tests nothing"


def snapshot_all_crash(seed: int = 1, raft: Raft = None, iters: int = 5) -> None:
    """Crash everyone after snapshots were taken: they restart from snapshots + logs."""
    c = cluster(3, seed, raft, snapshot_every=10)
    rng = random.Random(seed)
    c.one(rng.randrange(10**9), 3)
    for _ in range(iters):
        for _ in range(11):
            c.one(rng.randrange(10**9), 3)
        index1 = c.one(rng.randrange(10**9), 3)
        for i in c.ids:
            c.restart(i)
        index2 = c.one(rng.randrange(10**9), 3)
        assert index2 > index1, f"index went backwards: {index2} < {index1}"
        assert all(c.disks[i].snapshot is not None for i in c.ids)


def snapshot_init(seed: int = 1, raft: Raft = None) -> None:
    """A restart must bring up the snapshot too (and apply nothing it already holds twice)."""
    c = cluster(3, seed, raft, snapshot_every=10)
    rng = random.Random(seed)
    c.one(rng.randrange(10**9), 3)
    for _ in range(12):
        c.one(rng.randrange(10**9), 3)
    for i in c.ids:
        c.restart(i)
    c.one(rng.randrange(10**9), 3)
    for i in c.ids:
        c.restart(i)
    c.one(rng.randrange(10**9), 3)


# ----- a KV-lab read scenario (ReadIndex) ----------------------------------------------
def one_partition_read(seed: int = 1, raft: Raft = None) -> None:
    """6.824 KV TestOnePartition, at the Raft level: a leader cut off in a minority (and
    slow, so it has not stepped down yet) must not answer a read with its stale state,
    though a majority acknowledged its heartbeats for an earlier read."""
    c = cluster(5, seed, raft)
    c.one(1, 5)
    old = c.check_one_leader()
    # A read served while all are connected: every follower has now acknowledged a
    # heartbeat round, so a leader must tell a round sent after a read from an old one.
    c.read(old, "r0")
    c.step(10)
    assert c.read_results.get("r0") is not None, "the leader did not serve a read"
    k = c.ids.index(old)
    minority = [old, c.ids[(k + 1) % 5]]
    for i in minority:
        c.disconnect(i)
        c.pause(i)  # the minority is slow: it has not noticed yet
    c.one(2, 3)  # the majority elects a new leader and commits
    for i in minority:
        c.resume(i)
    assert c.is_leader(old)
    c.read(old, "r1")  # must wait for a quorum that never comes, then be dropped
    c.step(60)
    assert c.read_results.get("r1") is None, "a minority leader served a read"
    for i in minority:
        c.connect(i)
    leader = c.check_one_leader()
    c.read(leader, "r2")
    c.step(10)
    assert c.read_results.get("r2") is not None, "the majority leader did not serve a read"


def read_after_election(seed: int = 1, raft: Raft = None, rounds: int = 5) -> None:
    """distlab's addition: a read asked of a new leader at once. The old leader commits
    an entry and is cut off before its next heartbeat tells the followers so; the new
    leader holds the entry but does not know it is committed until an entry of its own
    term commits. A read index taken before that is stale."""
    c = cluster(3, seed, raft, latency=1)  # a tick per hop: the read comes before the no-op commits
    c.one(0, 3)
    for r in range(1, rounds + 1):
        old = c.check_one_leader()
        index, _, ok = c.start_cmd(old, r)
        assert ok, f"{old} refused a command"
        for _ in range(50):
            if c.status(old)["commit"] >= index:
                break
            c.step()
        c.disconnect(old)
        new = None
        for _ in range(100):
            c.step()
            new = next((i for i in c.ids if c.connected[i] and c.is_leader(i)), None)
            if new is not None:
                break
        assert new is not None, f"no leader elected after {old} was cut off"
        c.read(new, f"r{r}")  # must reflect entry {index}, committed before it began
        c.step(20)
        assert c.read_results.get(f"r{r}") is not None, f"the new leader {new} did not serve a read"
        c.connect(old)
        c.step(10)


SCENARIOS: dict[str, Callable[..., None]] = {
    "2a_initial_election": initial_election,
    "2a_re_election": re_election,
    "2a_many_elections": many_elections,
    "2a_slow_network_elections": slow_network_elections,
    "2b_basic_agree": basic_agree,
    "2b_fail_agree": fail_agree,
    "2b_fail_no_agree": fail_no_agree,
    "2b_follower_failure": follower_failure,
    "2b_leader_failure": leader_failure,
    "2b_rpc_bytes": rpc_bytes,
    "2b_concurrent_starts": concurrent_starts,
    "2b_rejoin": rejoin,
    "2b_election_restriction": election_restriction,
    "2b_stale_leader_appends": stale_leader_appends,
    "2b_backup": backup,
    "2b_backup_unknown_term": backup_unknown_term,
    "2b_count": count,
    "2c_persist1": persist1,
    "2c_persist2": persist2,
    "2c_persist3": persist3,
    "2c_persist_truncation": persist_truncation,
    "2c_figure8": figure8,
    "2c_unreliable_agree": unreliable_agree,
    "2c_figure8_unreliable": figure8_unreliable,
    "2c_figure8_exact": figure8_exact,
    "2c_reliable_churn": churn,
    "2c_unreliable_churn": partial(churn, reliable=False),
    "2c_election_restarts": election_restarts,
    "2d_snapshot_basic": snapshot_basic,
    "2d_snapshot_install": snapshot_install,
    "2d_snapshot_install_unreliable": snapshot_install_unreliable,
    "2d_snapshot_install_crash": snapshot_install_crash,
    "2d_snapshot_all_crash": snapshot_all_crash,
    "2d_snapshot_init": snapshot_init,
    **SCENARIOS_3A,  # TinyKV 3A: leader transfer and membership change (scenarios_3a.py)
    "4a_one_partition_read": one_partition_read,
    "4a_read_after_election": read_after_election,
}


# What a Raft must offer beyond the basic interface for a scenario to apply to it
# (interface.py's optional members: one name, or all of several).
NEEDS: dict[str, str | tuple[str, ...]] = {name: "compact" for name in SCENARIOS if name.startswith("2d_")}
NEEDS["4a_one_partition_read"] = "read_index"
NEEDS["4a_read_after_election"] = "read_index"
NEEDS.update(NEEDS_3A)
