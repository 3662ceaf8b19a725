"""The wire every runtime shares: routing, the message trace, counters, node logs.

A runtime (the simulator, the process harness) subclasses `Wire` and says how
a message reaches a node (`_from_client`, `_arrive`) and what a node is; the
rules are written once here: client traffic is delivered at once and never
faulted, server traffic goes through the network model, every message is
traced, unknown destinations get error 1, and a flooding node ends the run.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import orjson

from distlab.protocol import NODE_NOT_FOUND, SERVICE_IDS, ProtocolError, RPCError
from distlab.runtime.network import Network
from distlab.runtime.protocols import HarnessLoop

DEFAULT_FLOOD_LIMIT = 50_000
"""Messages one node may send per second before the run is stopped as a flood."""


class Slot:
    """One node's place in the cluster; survives its restarts."""

    def __init__(self, wire: Wire, node_id: str) -> None:
        self.wire = wire
        self.id = node_id
        self.sent_window = 0
        self.window_start = 0.0
        self.log_file: IO[bytes] | None = None
        self.sent_as_other = False  # noted in its log the first time it sends with another src

    def log(self, text: str) -> None:
        self.wire.write_log(self, text)


class Wire(ABC):
    clock_name = "simulated"  # for messages: "within one simulated second"

    def __init__(
        self,
        loop: HarnessLoop,
        node_ids: list[str],
        network: Network,
        trace: IO[bytes] | None = None,
        log_dir: Path | None = None,
        log_stderr: Callable[[str, str], None] | None = None,
        flood_limit: int = DEFAULT_FLOOD_LIMIT,
    ) -> None:
        self.loop = loop
        self.node_ids = list(node_ids)
        self.network = network
        self.trace = trace
        self.flood_limit = flood_limit
        self._log_stderr = log_stderr
        self.nodes: dict[str, Any] = {nid: self.make_slot(nid) for nid in node_ids}
        self.client_handler: Callable[[str, dict[str, Any]], None] | None = None
        """Receives (client id, body) for every message a node sends to a client."""
        self.next_message_id = 0
        self.server_msgs = 0
        self.client_msgs = 0
        self.dropped = 0
        self.lost = 0  # copies the network's loss (--loss, loss bursts) never delivered: no trace line
        self.lost_to: dict[str, int] = {}  # those losses by destination (for the run's metrics)
        self.node_errors: dict[str, int] = {}  # "n1: what went wrong" -> times
        self.clients: set[str] = set()
        self.services: dict[str, Any] = {}  # name -> distlab.services.Service
        self._links: dict[tuple[str, str], bytes] = {}  # the trace's "src","dest" part, per link
        self._stamp_at = -1.0
        self._stamp_ns = 0
        self._stamp_t = b'{"t":0'  # a trace line's start at _stamp_at, formatted once per instant
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            for slot in self.nodes.values():
                slot.log_file = open(log_dir / f"{slot.id}.log", "ab")  # noqa: SIM115

    def make_slot(self, node_id: str) -> Slot:
        return Slot(self, node_id)

    # ----- logs -----------------------------------------------------------------------
    def write_log(self, slot: Slot, text: str) -> None:
        stamp = f"{self.loop.time():12.6f} "
        if slot.log_file is not None:
            slot.log_file.write((stamp + text.replace("\n", "\n" + " " * len(stamp)) + "\n").encode("utf-8", "replace"))
            slot.log_file.flush()
        if self._log_stderr is not None:
            self._log_stderr(slot.id, text)

    def node_error(self, slot: Slot, text: str) -> None:
        """A node broke the protocol: count it for the summary and say so in its log."""
        key = f"{slot.id}: {text}"
        self.node_errors[key] = self.node_errors.get(key, 0) + 1
        slot.log(f"[distlab] {text}")

    # ----- the wire -------------------------------------------------------------------
    def add_client(self, client_id: str) -> None:
        self.clients.add(client_id)

    def _stamp(self, now: float) -> int:
        if now != self._stamp_at:
            self._stamp_at = now
            self._stamp_ns = round(now * 1e9)
            self._stamp_t = b'{"t":%d' % self._stamp_ns
        return self._stamp_ns

    def route(self, src: str, dest: str, body: dict[str, Any]) -> None:
        """Send one message: encode (a copy, as a real wire would), trace, schedule arrival.

        Every message passes here once: this is the simulator's hottest path,
        hence the inlining.
        """
        try:
            data = orjson.dumps(body)
        except TypeError as exc:
            raise ProtocolError(f"message to {dest} is not JSON-serialisable: {exc}") from None
        self.next_message_id = mid = self.next_message_id + 1
        loop = self.loop
        now = loop.now
        trace = self.trace
        if trace is not None:
            link = self._links.get((src, dest))
            if link is None:
                link = self._links[(src, dest)] = b',"src":%b,"dest":%b,"body":' % (orjson.dumps(src), orjson.dumps(dest))
            if now != self._stamp_at:
                self._stamp_at = now
                self._stamp_ns = round(now * 1e9)
                self._stamp_t = b'{"t":%d' % self._stamp_ns
            if dest not in self.clients:
                trace.write(b'%b,"ev":"send","id":%d%b%b}\n' % (self._stamp_t, mid, link, data))
        if src in self.clients:  # clients are never partitioned
            self.client_msgs += 1
            self._from_client(mid, src, dest, data, body)
            return
        slot = self.nodes.get(src)
        if slot is not None:
            if now - slot.window_start >= 1.0:
                slot.window_start = now
                slot.sent_window = 0
            slot.sent_window += 1
            if slot.sent_window > self.flood_limit:
                self.loop.abort(
                    f"node {slot.id} flooded the network: over {self.flood_limit} messages "
                    f"within one {self.clock_name} second (at t={now:.3f} s)"
                )
        if dest in self.clients:
            self.client_msgs += 1
            if trace is not None:  # delivered at once: its recv line goes with its send line
                trace.write(b'%b,"ev":"send","id":%d%b%b}\n%b,"ev":"recv","id":%d}\n'
                            % (self._stamp_t, mid, link, data, self._stamp_t, mid))
            self.client_handler(dest, orjson.loads(data))  # type: ignore[misc]
            return
        self.server_msgs += 1
        network = self.network
        if dest in self.nodes:
            if network.fifo:
                times = network.arrivals(src, dest, now)
                if not times:
                    self.lost += 1
                    self.lost_to[dest] = self.lost_to.get(dest, 0) + 1
                for at in times:
                    loop.call_harness_at(at, self._arrive, mid, src, dest, data)
                return
            delays = network.delays(src, dest)
            if not delays:
                self.lost += 1
                self.lost_to[dest] = self.lost_to.get(dest, 0) + 1
            for delay in delays:
                if delay:
                    loop.call_harness_at(now + delay, self._arrive, mid, src, dest, data)
                else:
                    loop.call_harness_soon(self._arrive, mid, src, dest, data)
            return
        service = self.services.get(dest)
        if service is not None:
            times = network.arrivals(src, dest, now)
            if not times:
                self.lost += 1
                self.lost_to[dest] = self.lost_to.get(dest, 0) + 1
            for at in times:
                loop.call_harness_at(at, self._at_service, mid, service, src, data)
            return
        # Nowhere to go: tell the sender at once rather than let it time out.
        if slot is not None:
            what = "service" if dest in SERVICE_IDS else "destination"
            self.node_error(slot, f"message to unknown {what} {dest!r} dropped")
            msg_id = body.get("msg_id")
            if isinstance(msg_id, int):
                err = RPCError(NODE_NOT_FOUND, f"no such node or service: {dest}").to_body()
                err["in_reply_to"] = msg_id
                loop.call_harness_soon(self._deliver_error, src, dest, err)

    def route_from(self, slot: Slot, src: str, dest: str, body: dict[str, Any]) -> None:
        """A node's message with the `src` it wrote, which may be another sender's id.

        Maelstrom routes a message by the `src` it carries, whoever wrote it (its
        Python Raft demo forwards a client's request to the leader unchanged, and
        the leader answers the client directly), so distlab does too: the message
        travels as if `src` had sent it (from a client: at once and never
        partitioned). The node's log says so once. A `src` that names no node,
        client or service is still a protocol error, and so is a destination
        that does not exist (reported against the node that wrote it).
        """
        if src == slot.id:
            self.route(src, dest, body)
            return
        is_client = src in self.clients
        if not (is_client or src in self.nodes or src in self.services):
            self.node_error(slot, f"sent a message as {src!r}, which is no node, client or service; dropped")
            return
        if not slot.sent_as_other:
            slot.sent_as_other = True
            slot.log(f"[distlab] sends messages with another sender's src (first: as {src!r} to {dest!r}); "
                     "allowed, as in Maelstrom: each travels as if its src had sent it (noted once)")
        if is_client or src in self.services:  # route() charges only nodes for flooding
            self._count_sent(slot)
        if dest not in self.nodes and (is_client or (dest not in self.clients and dest not in self.services)):
            # Nowhere to go (a client's message goes only to nodes): no error reply either,
            # since the msg_id belongs to `src`, not to the node that wrote it.
            self.node_error(slot, f"message as {src!r} to {dest!r} dropped: no such destination for it")
            return
        if is_client:  # the node keeps its dict; the receiving node gets its own
            try:
                body = orjson.loads(orjson.dumps(body))
            except TypeError as exc:
                raise ProtocolError(f"message to {dest} is not JSON-serialisable: {exc}") from None
        self.route(src, dest, body)

    def _count_sent(self, slot: Slot) -> None:
        """route()'s flood accounting, for a message a node wrote as someone else."""
        now = self.loop.now
        if now - slot.window_start >= 1.0:
            slot.window_start = now
            slot.sent_window = 0
        slot.sent_window += 1
        if slot.sent_window > self.flood_limit:
            self.loop.abort(
                f"node {slot.id} flooded the network: over {self.flood_limit} messages "
                f"within one {self.clock_name} second (at t={now:.3f} s)"
            )

    def client_send(self, src: str, dest: str, body: dict[str, Any]) -> None:
        """A client request: delivered to the node at once."""
        self.route(src, dest, body)

    def _trace_event(self, ev: bytes, mid: int, extra: bytes = b"") -> None:
        if self.trace is not None:
            self.trace.write(b'{"t":%d,"ev":"%b","id":%d%b}\n' % (self._stamp(self.loop.now), ev, mid, extra))

    def _at_service(self, mid: int, service: Any, src: str, data: bytes) -> None:
        """A request reaches a built-in service, which answers when its work is done
        (at once for all but `backend`), over the network."""
        self._trace_event(b"recv", mid)
        reply, delay = service.respond(src, orjson.loads(data), self.loop.now)
        if reply is not None and src in self.nodes:
            if delay > 0:
                self.loop.call_harness_at(self.loop.now + delay, self.route, service.name, src, reply)
            else:
                self.route(service.name, src, reply)

    def _partitioned(self, mid: int, src: str, dest: str) -> bool:
        """At receive time: a partition drops the message (traced as such)."""
        grudge = self.network.grudge
        if grudge and src in grudge.get(dest, ()):
            self.dropped += 1
            self._trace_event(b"drop", mid, b',"why":"partition"')
            return True
        return False

    # ----- what each runtime supplies ---------------------------------------------------
    @abstractmethod
    def _from_client(self, mid: int, src: str, dest: str, data: bytes, body: dict[str, Any]) -> None:
        """Deliver a client's request to a node now (`body` is the harness's own fresh dict)."""

    @abstractmethod
    def _arrive(self, mid: int, src: str, dest: str, data: bytes) -> None:
        """A server message reaches its destination node after its network delay."""

    @abstractmethod
    def _deliver_error(self, node_id: str, fake_src: str, body: dict[str, Any]) -> None:
        """Hand a node the error reply for a message it sent to nowhere."""

    def close(self) -> None:
        for slot in self.nodes.values():
            if slot.log_file is not None:
                slot.log_file.close()
                slot.log_file = None
