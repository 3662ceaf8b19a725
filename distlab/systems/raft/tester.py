"""A deterministic Raft tester: N Raft state machines, an in-memory network, seeded faults.

This is the harness behind distlab/systems/raft/scenarios.py (scenarios named after MIT
6.824's Raft lab) and tests/test_raft_mutants.py. It drives any Raft written in the
sans-I/O style of `distlab.systems.raft.core` and checks Raft's safety properties
(Figure 3 of the paper) after every step, raising `SafetyViolation` at once: election
safety, log matching, leader completeness, state machine safety (applied in order, and
a committed entry never changes) and durability (on a majority of disks).

`Cluster` composes three parts, one concern each: `tester_net.Network` (the in-memory
network and its link faults), `disk.Disk` (each node's stable storage) and
`invariants.Invariants` (the safety properties). It adds the nodes' lifecycle (start,
crash, pause), the Ready contract, the state machine and 6.824's config helpers.

Plugging in your own Raft
-------------------------
Pass `factory(node_id, peers, rng, persisted) -> node` to `Cluster`. `peers` lists
the initial configuration: every node id (including node_id), except in membership
scenarios, where a server outside it is built with `peers` lacking its own id and is no
voter until a change adds it (interface.py); `rng` is the node's only source of randomness;
`persisted` is a `distlab.systems.raft.Persisted` (hard state, snapshot, entries): what
the node wrote to stable storage before it crashed, empty on first start. The node
needs the following (`RaftLike` in interface.py; `distlab raft-test` checks a node
against it before any scenario runs and names what is missing or mistyped):

    tick()                    one unit of time (elections take ~10-20 ticks by default)
    step(message)             deliver a message; it must have `.src` and `.dest`, and may
                              have `.kind` (a name such as "append_resp"; the class name
                              otherwise) and `.reject`: 2b_backup counts "append_resp"
                              messages with reject set, so name yours alike for its
                              budget to mean something; `.to_dict()` sizes it for RPC
                              bytes (else its pickled size)
    propose(command) -> int   append a command if leader and return its log index; if
                              not the leader return None (or raise raft.NotLeader)
    read_index(ctx)           optional: a linearizable read point (scenarios with reads)
    compact(index, data)      optional: snapshot the state machine at applied `index`
    transfer_leader(target)   optional, with `members` (the voters in force): the 3A
                              scenarios' leader transfer and membership change
    has_ready() -> bool
    ready() -> Ready          fields as in `distlab.systems.raft.Ready`: hard_state,
                              entries, last_index, snapshot, restore, messages,
                              committed, read_states, dropped_reads
    advance(ready)
    status() -> dict          at least "term", "role" ("leader" for the leader),
                              "commit" (commit index)
    log                       `.snapshot_index`, `.snapshot` (index, term), `.last_index`,
                              `.term_at(i)` (None if unknown) and `.entry(i)` (with
                              `.term`, `.command`) for snapshot_index < i <= last_index

The tester stores exactly what each Ready asks it to (and nothing else) in a `Disk`,
sends the messages only after that, then applies `restore` and `committed`: a restarted
node gets back only what it persisted. Snapshot data made by the tester is a list of
[index, term, command] for every applied entry, so a node's state machine can be
rebuilt from it and compared with the others'.

Time and faults
---------------
`step()` advances time by one tick: every live, unpaused node ticks (in a seeded order),
then every message due by now is delivered, including replies sent on the way (on a
reliable network a message arrives in the tick it was sent). With `reliable=False`
messages are dropped (10%), duplicated (5%) and delayed 0-3 ticks, sometimes 5-25 ticks
(so they are also reordered), like 6.824's unreliable network; `latency=k` adds k ticks
to every message (a slow network: elections then take several ticks to complete), and
`hold(i)`/`release(i)` stall what node i sends, then deliver it late in one burst (a
deposed leader's messages arriving after its successor has taken over). `disconnect`/`connect`
cut a node off in both directions (messages in flight to or from it are lost),
`cut(a, b)`/`mend(a, b)` take down one link only (a partial partition),
`crash`/`restart` throw away all volatile state, `pause`/`resume` freeze a node (no ticks,
its incoming messages wait) like SIGSTOP, and `restart_after_message = p` restarts a
follower right after it handled a message with chance p (kill -9 just after it
persisted and replied: a vote grant, say). Everything follows from `seed`.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter, deque
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from distlab.systems.raft.core import Config, NotLeader, Persisted, RaftCore
from distlab.systems.raft.disk import Disk
from distlab.systems.raft.invariants import LEADER_ROLE, Invariants, SafetyViolation
from distlab.systems.raft.log import Entry, Snapshot
from distlab.systems.raft.tester_net import Network

__all__ = ["LEADER_ROLE", "Cluster", "Disk", "Factory", "Livelock", "SafetyViolation",
           "core_factory"]

Factory = Callable[[str, list[str], random.Random, Persisted], Any]


class Livelock(AssertionError):
    """Messages kept causing messages within one tick: a storm, not a safety violation."""


def core_factory(config: Config | None = None) -> Factory:
    """The factory for distlab's own RaftCore, with `config` (mutants, timings)."""

    def make(node_id: str, peers: list[str], rng: random.Random, persisted: Persisted) -> Any:
        if node_id not in peers:  # not a voter yet: the initial configuration is `peers`
            cfg = dataclasses.replace(config or Config(), voters=frozenset(peers))
            return RaftCore(node_id, [*peers, node_id], rng, cfg, persisted)
        return RaftCore(node_id, peers, rng, config, persisted)

    return make


class Cluster:
    """6.824's `config`: servers, their disks and applied logs, a network, and the checks."""

    trace_limit = 0  # > 0: keep the last that many events in `events` (raft-test --trace)
    latest: Cluster | None = None  # the cluster built last, whose events a failure shows

    def __init__(self, n: int, seed: int = 0, *, factory: Factory | None = None,
                 config: Config | None = None, reliable: bool = True,
                 snapshot_every: int | None = None, latency: int = 0,
                 voters: int | None = None) -> None:
        self.n = n
        self.ids = [f"s{i}" for i in range(n)]
        # the initial configuration: the first `voters` servers (all by default); every
        # node is built with it as `peers`, so one outside it is not a voter until added
        self.initial = self.ids[:voters] if voters is not None else list(self.ids)
        self.seed = seed
        self.rng = random.Random(f"tester/{seed}")
        self.factory = factory or core_factory(config)
        self.net = Network(self.ids, self.rng, reliable=reliable, latency=latency)
        self.safety = Invariants(len(self.initial))  # durability: a majority of the voters
        # True: before each durability check, the voters are the leader's `members` (the
        # configuration in force, by whichever rule the Raft uses: a change counts from
        # its append or from its apply), not a fixed number a scenario guessed; see
        # _voters_in_force for why across a change the smaller of the two counts
        self.quorum_from_leader = False
        self._in_force = len(self.initial)  # the voters at the last check (quorum_from_leader)
        self.snapshot_every = snapshot_every
        self.restart_after_message = 0.0  # chance a node is restarted right after a message
        self.now = 0
        self.disks = {i: Disk() for i in self.ids}
        self.nodes: dict[str, Any] = dict.fromkeys(self.ids)
        self.incarnation = dict.fromkeys(self.ids, 0)
        self.paused: set[str] = set()
        # applied commands per node (6.824's cfg.logs): index -> (term, command)
        self.applied: dict[str, dict[int, tuple[int, Any]]] = {i: {} for i in self.ids}
        self.last_applied = dict.fromkeys(self.ids, 0)
        self.snapshots_installed = 0  # snapshots a running node loaded from a Ready
        self.reads: dict[Any, dict[str, Any]] = {}
        self.read_results: dict[Any, int | None] = {}  # ctx -> read index, None if dropped
        self.steps_checked = 0
        self.events: deque[str] | None = deque(maxlen=self.trace_limit) if self.trace_limit else None
        self._roles: dict[str, tuple[Any, Any]] = {}  # node -> (role, term) last recorded
        Cluster.latest = self
        for i in self.ids:
            self.start(i)

    # ----- the parts' state, under the names scenarios use --------------------------------
    @property
    def reliable(self) -> bool:
        return self.net.reliable

    @reliable.setter
    def reliable(self, value: bool) -> None:
        self.net.reliable = value

    @property
    def latency(self) -> int:
        return self.net.latency

    @property
    def connected(self) -> dict[str, bool]:
        return self.net.connected

    @property
    def rpcs(self) -> Counter[str]:
        return self.net.rpcs

    @property
    def bytes_sent(self) -> int:
        return self.net.bytes_sent

    @property
    def committed(self) -> dict[int, tuple[int, Any]]:
        return self.safety.committed

    @property
    def max_committed(self) -> int:
        return self.safety.max_committed

    def _event(self, text: str) -> None:
        self.events.append(f"t{self.now:<5} {text}")  # type: ignore[union-attr]

    def _describe(self, m: Any) -> str:
        to_dict = getattr(m, "to_dict", None)
        text = orjson.dumps(to_dict()).decode() if to_dict is not None else repr(m)
        return text if len(text) <= 160 else text[:160] + "..."

    # ----- lifecycle --------------------------------------------------------------------
    def start(self, i: str) -> None:
        """(Re)start node i from its disk: volatile state and the state machine start over."""
        self.incarnation[i] += 1
        if self.events is not None:
            self._event(f"{i} starts (incarnation {self.incarnation[i]}) from its disk")
        rng = random.Random(f"{self.seed}/{i}/{self.incarnation[i]}")
        disk = self.disks[i]
        self.nodes[i] = self.factory(i, list(self.initial), rng, disk.persisted())
        self.applied[i] = {}
        self.last_applied[i] = 0
        if disk.snapshot is not None:
            self._restore(i, disk.snapshot)
        self.pump(i)

    def crash(self, i: str) -> None:
        """Stop node i; its disk survives, everything else (and its mail) is lost."""
        if self.events is not None:
            self._event(f"{i} crashes")
        self.nodes[i] = None
        self.paused.discard(i)

    def restart(self, i: str) -> None:
        self.crash(i)
        self.start(i)

    def disconnect(self, i: str) -> None:
        if self.events is not None:
            self._event(f"{i} disconnected")
        self.net.disconnect(i)

    def connect(self, i: str) -> None:
        if self.events is not None:
            self._event(f"{i} connected")
        self.net.connect(i)

    def cut(self, a: str, b: str) -> None:
        """Take down the link between a and b only, both ways (each still reaches the rest)."""
        if self.events is not None:
            self._event(f"link {a} - {b} cut")
        self.net.cut(a, b)

    def mend(self, a: str, b: str) -> None:
        if self.events is not None:
            self._event(f"link {a} - {b} mended")
        self.net.mend(a, b)

    def hold(self, i: str) -> None:
        """Hold back what i sends from now on (a link that stalls), until `release`."""
        if self.events is not None:
            self._event(f"{i}'s outgoing messages held")
        self.net.hold(i)

    def release(self, i: str) -> None:
        """Send everything held back from i at once, in order; i's link works again."""
        if self.events is not None:
            self._event(f"{i}'s held messages released ({len(self.net.held.get(i, []))})")
        self.net.release(i, self.now)

    def pause(self, i: str) -> None:
        """Freeze i: it neither ticks nor receives; messages to it wait until `resume`."""
        if self.events is not None:
            self._event(f"{i} paused")
        self.paused.add(i)

    def resume(self, i: str) -> None:
        if self.events is not None:
            self._event(f"{i} resumed")
        self.paused.discard(i)

    def alive(self, i: str) -> bool:
        return self.nodes[i] is not None

    def node(self, i: str) -> Any:
        node = self.nodes[i]
        assert node is not None, f"{i} is down"
        return node

    def status(self, i: str) -> dict[str, Any]:
        return self.node(i).status()

    def is_leader(self, i: str) -> bool:
        return self.alive(i) and self.node(i).status()["role"] == LEADER_ROLE

    # ----- driving ----------------------------------------------------------------------
    def pump(self, i: str) -> None:
        """Persist, then send, then apply, then advance: the Ready contract."""
        node = self.nodes[i]
        if node is None:
            return
        disk = self.disks[i]
        rounds = 0
        while node.has_ready():
            rounds += 1
            if rounds > 10_000:
                raise Livelock(f"{i}: has_ready() still true after 10000 ready/advance rounds "
                               f"(does advance() clear what ready() handed out?)")
            rd = node.ready()
            changed = disk.write(rd)
            if changed is not None:
                self.safety.disk_changed(changed)
            for m in rd.messages:
                self.net.send(m, self.now)
            if rd.restore is not None:
                self.snapshots_installed += 1  # a snapshot that came over the network
                self._restore(i, rd.restore)
            for e in rd.committed:
                self._apply(i, e)
            for rs in rd.read_states:
                self._read_done(i, rs.ctx, rs.index)
            for ctx in rd.dropped_reads:
                self.reads.pop(ctx, None)
                self.read_results[ctx] = None
            node.advance(rd)
            self._finish_reads(i)
            if self.snapshot_every:
                snap_index = node.log.snapshot_index
                if self.last_applied[i] - snap_index >= self.snapshot_every:
                    applied = self.applied[i]
                    data = [[k, applied[k][0], applied[k][1]] for k in sorted(applied)]
                    node.compact(self.last_applied[i], data)
        self._check_leader(i)

    def deliver_due(self, limit: int = 200_000) -> None:
        """Deliver every message due by now (and the ones they cause, if due too)."""
        held: list[tuple[int, int, Any]] = []
        net = self.net
        for _ in range(limit):
            item = net.pop_due(self.now)
            if item is None:
                break
            m = item[2]
            if not net.link_up(m) or not self.alive(m.dest):
                continue
            if m.dest in self.paused:
                held.append(item)
                continue
            if self.events is not None:
                self._event(f"{m.src} -> {m.dest} {self._describe(m)}")
            self.node(m.dest).step(m)
            self.pump(m.dest)
            if (self.restart_after_message and self.node(m.dest).status()["role"] == "follower"
                    and self.rng.random() < self.restart_after_message):
                self.restart(m.dest)  # kill -9 right after it persisted and replied
        else:
            self.check_safety()  # a storm is often the symptom: name the cause if it is one
            raise Livelock(f"messages never stopped flowing at tick {self.now}")
        net.requeue(held)

    def step(self, ticks: int = 1) -> None:
        """Advance time: every running node ticks, due messages arrive, safety is checked."""
        for _ in range(ticks):
            self.now += 1
            order = [i for i in self.ids if self.alive(i) and i not in self.paused]
            self.rng.shuffle(order)
            for i in order:
                self.node(i).tick()
                self.pump(i)
            self.deliver_due()
            self.check_safety()

    # ----- the state machine -----------------------------------------------------------
    def _apply(self, i: str, e: Entry) -> None:
        if e.index != self.last_applied[i] + 1:
            raise SafetyViolation(f"{i} applied {e.index} out of order "
                                  f"(last applied {self.last_applied[i]})")
        self.safety.learn_committed(i, e.index, e.term, e.command)
        self.applied[i][e.index] = (e.term, e.command)
        self.last_applied[i] = e.index

    def _restore(self, i: str, snap: Snapshot) -> None:
        data = snap.data or []
        self.applied[i] = {}
        for index, term, command in data:
            self.safety.learn_committed(i, index, term, command)
            self.applied[i][index] = (term, command)
        if len(data) != snap.index:
            raise SafetyViolation(f"{i} restored a snapshot at {snap.index} "
                                  f"holding {len(data)} entries")
        self.last_applied[i] = snap.index

    # ----- reads (ReadIndex, §6.4) ------------------------------------------------------
    def read(self, i: str, ctx: Any) -> None:
        """Ask node i for a linearizable read; it must reflect every commit known by now."""
        self.reads[ctx] = {"node": i, "floor": self.max_committed, "index": None}
        self.node(i).read_index(ctx)
        self.pump(i)

    def _read_done(self, i: str, ctx: Any, index: int) -> None:
        read = self.reads.get(ctx)
        if read is not None:
            read["index"] = index

    def _finish_reads(self, i: str) -> None:
        for ctx, read in list(self.reads.items()):
            if read["node"] != i or read["index"] is None:
                continue
            if self.last_applied[i] < read["index"]:
                continue
            del self.reads[ctx]
            seen = self.last_applied[i]
            if read["index"] < read["floor"]:
                raise SafetyViolation(
                    f"stale read {ctx!r} at {i}: read index {read['index']} (state at {seen}) "
                    f"but entry {read['floor']} was committed before the read began")
            self.read_results[ctx] = read["index"]

    # ----- safety (Figure 3, in invariants.py) ------------------------------------------
    def _check_leader(self, i: str) -> None:
        st = self.node(i).status()
        if self.events is not None and self._roles.get(i) != (st["role"], st["term"]):
            self._roles[i] = (st["role"], st["term"])
            self._event(f"{i} is {st['role']} in term {st['term']} (commit {st.get('commit')})")
        self.safety.election(i, st)

    def _voters_in_force(self, live: list[str]) -> None:
        """Set the durability quorum from the configuration of the leader of the highest
        term (kept as it was while no node leads, or the leader reports no members).

        The entries this check sees committed for the first time were committed since the
        last check, under the configuration in force then or under the one in force now
        (one change apart: a leader has one change in flight at most, and a new leader holds
        every committed one). A correct Raft put each on a majority of the configuration it
        committed under, which may be the smaller: an apply-rule Raft commits the entry
        adding a fourth voter on two disks of three and is in the four-voter configuration
        by the time this check runs; an append-rule one (distlab's) commits on two of three
        as soon as it has appended a removal, and a new leader may not hold that removal
        yet. So the quorum is the smaller of the two configurations. The larger is stricter
        but not sound: on distlab's correct core it fails 3a_transfer_and_conf_change_churn
        on 6 of seeds 1-30 (a removal committed on two disks, checked against four). The
        two differ by one voter, so only entries committed across a 3 <-> 4 change are
        checked against the smaller majority."""
        best: tuple[int, str] | None = None
        for i in live:
            st = self.node(i).status()
            if st["role"] == LEADER_ROLE and (best is None or st["term"] > best[0]):
                best = (st["term"], i)
        voters = getattr(self.node(best[1]), "members", None) if best is not None else None
        now = len(voters) if voters else self._in_force
        self.safety.n = min(self._in_force, now)
        self._in_force = now

    def check_safety(self) -> None:
        """All the properties over every live node's current state and every disk."""
        self.steps_checked += 1
        live = [i for i in self.ids if self.alive(i)]
        for i in live:
            self._check_leader(i)
            self.safety.log(i, self.node(i))
        if self.quorum_from_leader:
            self._voters_in_force(live)
        self.safety.durability(self.disks.values())
        for i in live:
            self.safety.leader_completeness(i, self.node(i))

    # ----- 6.824's config helpers -------------------------------------------------------
    def n_committed(self, index: int) -> tuple[int, Any]:
        """How many nodes have applied `index`, and its command (they must agree)."""
        count, cmd, seen = 0, None, False
        for i in self.ids:
            if not self.alive(i) or index not in self.applied[i]:
                continue
            _, c = self.applied[i][index]
            if seen and c != cmd:
                raise SafetyViolation(f"committed values at {index} differ: {cmd!r} vs {c!r}")
            count, cmd, seen = count + 1, c, True
        return count, cmd

    def check_one_leader(self, tries: int = 10, ticks: int = 10) -> str:
        """Wait until exactly one connected node leads the newest term; return it."""
        for _ in range(tries):
            self.step(ticks)
            by_term: dict[int, list[str]] = {}
            for i in self.ids:
                if self.connected[i] and self.is_leader(i):
                    by_term.setdefault(self.status(i)["term"], []).append(i)
            for term, ls in by_term.items():
                if len(ls) > 1:
                    raise SafetyViolation(f"term {term} has leaders {ls}")
            if by_term:
                return by_term[max(by_term)][0]
        raise AssertionError(f"expected one leader, got none (tick {self.now})")

    def check_no_leader(self) -> None:
        for i in self.ids:
            if self.connected[i] and self.is_leader(i):
                raise AssertionError(f"expected no leader among connected servers, but {i} is")

    def check_terms(self) -> int:
        """Every connected live node agrees on the term; return it."""
        terms = {self.status(i)["term"] for i in self.ids if self.connected[i] and self.alive(i)}
        if len(terms) != 1:
            raise AssertionError(f"servers disagree on term: {sorted(terms)}")
        return terms.pop()

    def start_cmd(self, i: str, cmd: Any) -> tuple[int, int, bool]:
        """6.824's Start: (index, term, is_leader) at node i."""
        node = self.node(i)
        try:
            index = node.propose(cmd)
        except NotLeader:
            index = None
        if self.events is not None and index is not None and index >= 1:
            self._event(f"{i} takes command {cmd!r} at index {index}")
        if index is None or index < 1:
            return -1, node.status()["term"], False
        term = node.status()["term"]
        self.pump(i)
        return index, term, True

    def one(self, cmd: Any, expected: int, retry: bool = True, timeout: int = 200,
            wait: int = 40) -> int:
        """Get `cmd` committed on at least `expected` nodes within `timeout` ticks;
        return its index. Like 6.824, tries each server in turn until one leads."""
        deadline = self.now + timeout
        starter = 0
        while self.now < deadline:
            index = -1
            for _ in range(self.n):
                starter = (starter + 1) % self.n
                i = self.ids[starter]
                if self.connected[i] and self.alive(i) and i not in self.paused:
                    idx, _, ok = self.start_cmd(i, cmd)
                    if ok:
                        index = idx
                        break
            if index != -1:
                until = self.now + wait
                while self.now < until:
                    count, c = self.n_committed(index)
                    if count >= expected and c == cmd:
                        return index
                    self.step()
                if not retry:
                    raise AssertionError(f"one({cmd!r}) failed to reach agreement")
            else:
                self.step()
        raise AssertionError(f"one({cmd!r}) failed to reach agreement in {timeout} ticks")

    def wait(self, index: int, n: int, start_term: int = -1, timeout: int = 200) -> Any:
        """Wait until `n` nodes applied `index`; None if the term moved past start_term."""
        for _ in range(timeout):
            count, cmd = self.n_committed(index)
            if count >= n:
                return cmd
            self.step()
            if start_term > -1 and any(
                    self.alive(i) and self.status(i)["term"] > start_term for i in self.ids):
                return None
        count, _ = self.n_committed(index)
        raise AssertionError(f"only {count} nodes committed {index}, wanted {n}")

    def max_log_size(self) -> int:
        return max(d.size() for d in self.disks.values())

    def heal(self, nodes: Iterable[str] | None = None) -> None:
        """Reconnect, resume and restart everything (or `nodes`); with no `nodes`, every
        cut link is mended too."""
        if nodes is None:
            self.net.cuts.clear()
        for i in nodes or self.ids:
            self.connect(i)
            self.resume(i)
            if not self.alive(i):
                self.start(i)
