"""A pure RaftCore hosted in a distlab Node: the runtime kvraft, the shard controller, shardkv
and Percolator's Raft groups share.

The core decides; this class does its I/O. Each Ready batch is persisted and synced before
any of its messages leaves (a vote or an acknowledged entry must survive a crash), then
sent, then its snapshot installed and its committed entries applied, then its read states
handed to whoever waits, then advanced; the log is compacted once ``snapshot_every``
applied entries follow the last snapshot. The persistent state lives under ``raft/`` in
``node.storage`` (one Raft per node), read back at start with a torn tail cut off.
``raft {...}`` trace lines go to the node's log, so the run's Raft safety can be checked.

A system subclasses it and supplies its state machine: ``apply(entry)``, ``snapshot()``,
``restore(data)``, and optionally ``role_changed(old)``; after setting up its own state it
calls ``restore_loaded()`` to install the snapshot read from disk. ``read_barrier`` is the
ReadIndex wait before a linearizable read from local state; the client-request path on top
(sessions, propose and wait, forwarding to the leader) is distlab/systems/raft/service.py.

The fail points of distlab.fail.POINTS that mark Raft's windows are here, once:
``raft::before_persist``, ``raft::after_append``, ``raft::before_apply``.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import Any

from distlab import Node
from distlab.fail import fail_point
from distlab.systems.raft import (
    LEADER,
    Config,
    Entry,
    HardState,
    Message,
    Persisted,
    RaftCore,
    Ready,
    Snapshot,
)
from distlab.systems.raft.trace import Tracer, term_runs


class RaftHost(ABC):
    """One Raft replica on a node: its core, its disk, its tick and its trace. A system
    that leaves out apply, snapshot or restore fails when built, not at its first entry."""

    def __init__(self, node: Node, peers: list[str], *, config: Config | None = None,
                 group: str | None = None, tag: bool = False, snapshot_every: int = 100) -> None:
        """``group`` names the Raft group in trace lines; with ``tag`` its messages carry it
        too (``"g"``) and so do its role lines, for nodes whose handler routes by group."""
        self.node = node
        self.group = group
        self.tag = tag
        self.snapshot_every = snapshot_every
        self.trace = Tracer(node.log, group)
        st = node.storage
        hard = st.get("raft/hard") or {}
        snap = st.get("raft/snap")
        snapshot = Snapshot(*snap) if snap else None
        first = snapshot.index + 1 if snapshot else 1
        entries: list[Entry] = []
        for i in range(first, st.get("raft/last", 0) + 1):
            rec = st.get(f"raft/log/{i}")
            # A torn write can leave a new entry before old ones: terms must not go down.
            floor = entries[-1].term if entries else (snapshot.term if snapshot else 0)
            if rec is None or rec[0] < floor:
                break
            entries.append(Entry(i, rec[0], rec[1]))
        self.stored_first = first
        self.stored_last = first - 1 + len(entries)
        self.core = RaftCore(
            node.id,  # type: ignore[arg-type]
            peers,
            node.random,
            config or Config(),
            Persisted(HardState(hard.get("term", 0), hard.get("vote")), snapshot, entries),
        )
        self.loaded_snapshot = snapshot
        self.applied_term = snapshot.term if snapshot else 0  # the term of the last entry applied
        self.reads: dict[int, asyncio.Future[int | None]] = {}
        self.next_read = 0
        self.role = self.core.role

    # ----- what a system supplies -------------------------------------------------------
    @abstractmethod
    def apply(self, entry: Entry) -> None:
        """Apply one committed entry (a no-op's command is None)."""

    @abstractmethod
    def snapshot(self) -> Any:
        """The state machine's state as JSON data: a copy, since the core keeps it to send."""

    @abstractmethod
    def restore(self, data: Any) -> None:
        """Replace the state machine's state with a snapshot's data."""

    def role_changed(self, old: str) -> None:
        """Called after the role changed (and was logged); nothing by default."""
        return None

    def role_line(self) -> str:
        prefix = f"group {self.group}: " if self.tag else ""
        return f"{prefix}now {self.core.role} in term {self.core.term}"

    def restore_loaded(self) -> None:
        """Install the snapshot read from disk at start (call once the state machine exists)."""
        snapshot = self.loaded_snapshot
        if snapshot is not None:
            self.restore(snapshot.data)
            self.trace.restore(snapshot.index, snapshot.term)

    async def read_barrier(self, timeout: float) -> bool:
        """ReadIndex (§6.4): True once a majority has confirmed this leader after the call
        and everything committed before it is applied here, so local state may answer a
        linearizable read; False if that took longer than ``timeout`` or the read was
        dropped (leadership lost). NotLeader, before anything is asked, off a follower."""
        ctx = self.next_read = self.next_read + 1
        fut: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self.core.read_index(ctx)  # raises NotLeader
        self.reads[ctx] = fut
        self.pump()
        try:
            index = await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            self.reads.pop(ctx, None)
            return False
        return index is not None and self.core.applied >= index

    # ----- driving the core -----------------------------------------------------------
    def send_raft(self, m: Message) -> None:
        if self.tag:
            self.node.send(m.dest, {"type": "raft", "g": self.group, "m": m.to_dict()})
        else:
            self.node.send(m.dest, {"type": "raft", "m": m.to_dict()})

    def pump(self) -> None:
        """Handle every Ready batch: persist + sync, then send, then apply, then advance."""
        core = self.core
        while core.has_ready():
            rd = core.ready()
            self.persist(rd)
            if rd.entries:
                fail_point("raft::after_append")
            for m in rd.messages:
                self.send_raft(m)
            if rd.restore is not None:
                self.restore(rd.restore.data)
                self.applied_term = rd.restore.term
                self.trace.restore(rd.restore.index, rd.restore.term)
            for entry in rd.committed:
                fail_point("raft::before_apply")
                self.applied_term = entry.term
                self.apply(entry)
                self.trace.apply(entry.index, entry.term, entry.command)
            for rs in rd.read_states:
                fut = self.reads.pop(rs.ctx, None)
                if fut is not None and not fut.done():
                    fut.set_result(rs.index)
            for ctx in rd.dropped_reads:
                fut = self.reads.pop(ctx, None)
                if fut is not None and not fut.done():
                    fut.set_result(None)
            core.advance(rd)
            if core.applied - core.log.snapshot_index >= self.snapshot_every:
                core.compact(core.applied, self.snapshot())
        if core.role != self.role:
            old, self.role = self.role, core.role
            self.node.log(self.role_line())
            if core.role == LEADER:
                log = core.log
                terms = [e.term for e in log.slice(log.snapshot_index + 1, log.last_index + 1)]
                self.trace.leader(core.term, log.last_index,
                                  term_runs(log.snapshot_index, log.snapshot.term, terms))
            self.role_changed(old)

    def persist(self, rd: Ready) -> None:
        """Write the batch's stable state; sync once, before any message leaves."""
        if rd.entries or rd.hard_state is not None or rd.snapshot is not None or rd.last_index is not None:
            fail_point("raft::before_persist")
        st = self.node.storage
        if rd.snapshot is not None:
            s = rd.snapshot
            st["raft/snap"] = [s.index, s.term, s.data]
            for i in range(self.stored_first, min(s.index, self.stored_last) + 1):
                if f"raft/log/{i}" in st:
                    del st[f"raft/log/{i}"]
            self.stored_first = s.index + 1
            self.stored_last = max(self.stored_last, s.index)
        for e in rd.entries:
            st[f"raft/log/{e.index}"] = [e.term, e.command]
        if rd.last_index is not None:
            for i in range(max(rd.last_index + 1, self.stored_first), self.stored_last + 1):
                if f"raft/log/{i}" in st:
                    del st[f"raft/log/{i}"]
            st["raft/last"] = rd.last_index
            self.stored_last = rd.last_index
        if rd.hard_state is not None:
            st["raft/hard"] = {"term": rd.hard_state.term, "vote": rd.hard_state.vote}
        if st.dirty:
            st.sync()
