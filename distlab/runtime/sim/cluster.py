"""The simulated cluster: nodes as module instances on one virtual-time loop.

It owns what a real cluster would: node lifecycles (load, crash, restart,
pause), each node's disk and clock, and the wire between them, which it routes
through the shared network model and records in the message trace.
"""

from __future__ import annotations

import random
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import orjson

from distlab.node.core import Node
from distlab.node.host import ADOPT
from distlab.node.storage import MemoryDisk, SimStorage
from distlab.protocol import NODE_NOT_FOUND, SERVICE_IDS, Message, ProtocolError, RPCError
from distlab.runtime.network import Network
from distlab.runtime.sim.loop import (
    OWNER,
    WORLD,
    HarnessTimer,
    Incarnation,
    SimulationAbort,
    VirtualLoop,
)
from distlab.runtime.sim.sandbox import Sandbox

DEFAULT_FLOOD_LIMIT = 50_000
"""Messages one node may send per simulated second before the run is stopped as a flood."""


class Clock:
    """What a node believes the time is: virtual time plus offset, drift and strobe."""

    __slots__ = ("offset", "drift", "strobe_delta", "strobe_period")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.offset = 0.0
        self.drift = 0.0
        self.strobe_delta = 0.0
        self.strobe_period = 0.0

    def read(self, t: float) -> float:
        now = t + self.offset + self.drift * t
        if self.strobe_period and int(t / self.strobe_period) % 2:
            now += self.strobe_delta
        return now

    def describe(self) -> dict[str, float]:
        return {
            "offset": self.offset,
            "drift": self.drift,
            "strobe_delta": self.strobe_delta,
            "strobe_period": self.strobe_period,
        }


class SimHost:
    """The Host a node sees in the simulator, for one incarnation."""

    def __init__(self, cluster: SimCluster, slot: SimNode, inc: Incarnation) -> None:
        self._cluster = cluster
        self._slot = slot
        self._inc = inc
        self.random = random.Random(cluster.seed_for(slot.id, inc.number, "node"))
        self._storage = slot.disk.open()

    def send(self, dest: str, body: dict[str, Any]) -> None:
        if self._inc.dead:
            return  # code still unwinding in a crashed node reaches no one
        self._cluster.route(self._slot.id, dest, body)

    def now(self) -> float:
        return self._slot.clock.read(self._cluster.loop.time())

    def log(self, text: str) -> None:
        if not self._inc.dead:
            self._slot.log(text)

    @property
    def storage(self) -> SimStorage:
        return self._storage


class SimNode:
    """One node's slot: survives crashes (disk, clock, log), unlike its incarnations."""

    def __init__(self, cluster: SimCluster, node_id: str) -> None:
        self.cluster = cluster
        self.id = node_id
        self.disk = MemoryDisk()
        self.clock = Clock()
        self.inc: Incarnation | None = None
        self.node: Node | None = None
        self.incarnations = 0
        self.sent_window = 0
        self.window_start = 0.0
        self.log_file: IO[bytes] | None = None

    @property
    def alive(self) -> bool:
        return self.inc is not None and not self.inc.dead

    def log(self, text: str) -> None:
        self.cluster.write_log(self, text)


class SimCluster:
    """Nodes, wire and trace of one simulated run."""

    def __init__(
        self,
        loop: VirtualLoop,
        bin_path: Path,
        node_ids: list[str],
        network: Network,
        seed: int,
        trace: IO[bytes] | None = None,
        log_dir: Path | None = None,
        log_stderr: Callable[[str, str], None] | None = None,
        flood_limit: int = DEFAULT_FLOOD_LIMIT,
        bin_args: list[str] | None = None,
    ) -> None:
        self.bin_args = list(bin_args or [])
        self.loop = loop
        self.bin_path = bin_path
        self.node_ids = list(node_ids)
        self.network = network
        self.seed = seed
        self.trace = trace
        self.flood_limit = flood_limit
        self._log_stderr = log_stderr
        self.nodes = {nid: SimNode(self, nid) for nid in node_ids}
        self.client_handler: Callable[[str, dict[str, Any]], None] | None = None
        """Receives (client id, body) for every message a node sends to a client."""
        self.next_message_id = 0
        self.server_msgs = 0
        self.client_msgs = 0
        self.dropped = 0
        self.node_errors: dict[str, int] = {}  # "n1: what went wrong" -> times
        self.clients: set[str] = set()
        self._links: dict[tuple[str, str], bytes] = {}  # the trace's "src","dest" part, per link
        self._stamp_at = -1.0
        self._stamp_ns = 0
        source = bin_path.read_bytes()
        try:
            self._code = compile(source, str(bin_path), "exec")
        except SyntaxError as exc:
            raise SimulationAbort(f"{bin_path}: syntax error on line {exc.lineno}: {exc.msg}") from None
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            for slot in self.nodes.values():
                slot.log_file = open(log_dir / f"{slot.id}.log", "wb")  # noqa: SIM115
        loop.exception_sink = self._loop_exception  # type: ignore[attr-defined]

    # ----- seeds ----------------------------------------------------------------------
    def seed_for(self, *parts: Any) -> int:
        """A stable per-purpose seed: str hashing is randomised, so mix explicitly."""
        data = orjson.dumps([self.seed, *parts])
        h = 1469598103934665603
        for b in data:
            h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
        return h

    # ----- logs -----------------------------------------------------------------------
    def write_log(self, slot: SimNode, text: str) -> None:
        stamp = f"{self.loop.time():12.6f} "
        if slot.log_file is not None:
            slot.log_file.write((stamp + text.replace("\n", "\n" + " " * len(stamp)) + "\n").encode("utf-8", "replace"))
        if self._log_stderr is not None:
            self._log_stderr(slot.id, text)

    def node_error(self, slot: SimNode, text: str) -> None:
        """A node broke the protocol: count it for the summary and say so in its log."""
        key = f"{slot.id}: {text}"
        self.node_errors[key] = self.node_errors.get(key, 0) + 1
        slot.log(f"[distlab] {text}")

    def _loop_exception(self, owner: Incarnation | None, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        text = context.get("message", "error")
        if exc is not None:
            text += ": " + "".join(traceback.format_exception(exc)).rstrip()
        if owner is not None and owner.node_id in self.nodes:
            if not owner.dead:
                self.nodes[owner.node_id].log(f"[distlab] {text}")
        else:
            self.loop.abort(f"internal error in the harness: {text}")

    # ----- lifecycle ------------------------------------------------------------------
    def start(self, node_id: str) -> None:
        """Load a fresh instance of the node's file (first start or restart)."""
        slot = self.nodes[node_id]
        slot.incarnations += 1
        inc = Incarnation(node_id, slot.incarnations)
        slot.inc = inc
        host = SimHost(self, slot, inc)
        sandbox = Sandbox(
            self.bin_path,
            node_id,
            wall_clock=host.now,
            monotonic=self.loop.time,
            rng=host.random,
            abort=self.loop.abort,
            log=slot.log,
            argv=self.bin_args,
        )
        adopted: list[Node] = []
        token_owner = OWNER.set(inc)
        token_adopt = ADOPT.set(adopted.append)
        try:
            sandbox.load(self._code)
        except SimulationAbort:
            raise
        except BaseException as exc:
            slot.log("".join(traceback.format_exception(exc)).rstrip())
            last = traceback.format_exception_only(exc)[-1].strip()
            raise SimulationAbort(f"node {node_id}: loading {self.bin_path.name} failed: {last}") from None
        finally:
            ADOPT.reset(token_adopt)
            OWNER.reset(token_owner)
        if not adopted:
            raise SimulationAbort(
                f"node {node_id}: {self.bin_path.name} created no distlab Node; "
                "the simulator runs SDK nodes (`node = Node()` at module level)"
            )
        if len(adopted) > 1:
            raise SimulationAbort(f"node {node_id}: {self.bin_path.name} created {len(adopted)} Nodes; one per file")
        slot.node = adopted[0]
        slot.node.attach(host)
        slot.log(f"[distlab] started (incarnation {inc.number})")

    def crash(self, node_id: str) -> None:
        """Kill the instance: its tasks never run again and unsynced writes are gone."""
        slot = self.nodes[node_id]
        if slot.inc is None or slot.inc.dead:
            return
        slot.log(f"[distlab] crashed ({len(slot.disk.durable)} durable keys kept)")
        self.loop.kill(slot.inc)
        slot.node = None

    def pause(self, node_id: str) -> None:
        slot = self.nodes[node_id]
        if slot.alive and not slot.inc.paused:  # type: ignore[union-attr]
            slot.inc.paused = True  # type: ignore[union-attr]
            slot.log("[distlab] paused")

    def resume(self, node_id: str) -> None:
        slot = self.nodes[node_id]
        if slot.alive and slot.inc.paused:  # type: ignore[union-attr]
            slot.log("[distlab] resumed")
            self.loop.resume(slot.inc)  # type: ignore[arg-type]

    def alive(self, node_id: str) -> bool:
        return self.nodes[node_id].alive

    # ----- the wire -------------------------------------------------------------------
    def add_client(self, client_id: str) -> None:
        self.clients.add(client_id)

    def client_send(self, src: str, dest: str, body: dict[str, Any]) -> None:
        """A client request: delivered to the node at once (clients are never partitioned)."""
        self.route(src, dest, body)

    def _stamp(self, now: float) -> int:
        if now != self._stamp_at:
            self._stamp_at = now
            self._stamp_ns = round(now * 1e9)
        return self._stamp_ns

    def route(self, src: str, dest: str, body: dict[str, Any]) -> None:
        """Send one message: encode (a copy, as a real wire would), trace, schedule arrival.

        This is the simulator's hottest path (every message passes here once),
        hence the inlining.
        """
        try:
            data = orjson.dumps(body)
        except TypeError as exc:
            raise ProtocolError(f"message to {dest} is not JSON-serialisable: {exc}") from None
        self.next_message_id = mid = self.next_message_id + 1
        loop = self.loop
        now = loop._now  # type: ignore[attr-defined]
        trace = self.trace
        if trace is not None:
            link = self._links.get((src, dest))
            if link is None:
                link = self._links[(src, dest)] = b',"src":%b,"dest":%b,"body":' % (orjson.dumps(src), orjson.dumps(dest))
            if now != self._stamp_at:
                self._stamp(now)
            trace.write(b'{"t":%d,"ev":"send","id":%d%b%b}\n' % (self._stamp_ns, mid, link, data))
        if src in self.clients:  # clients are never partitioned
            self.client_msgs += 1
            slot = self.nodes[dest]
            inc = slot.inc
            if inc is None or inc.dead or slot.node is None:
                self.dropped += 1
                self._trace_event(b"drop", mid, b',"why":"down"')
            elif inc.paused:
                self._park(slot, inc, Message(src, dest, orjson.loads(data)), mid)
            else:
                self._deliver(slot, inc, Message(src, dest, orjson.loads(data)), mid)
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
                    f"within one simulated second (at t={now:.3f} s)"
                )
        if dest in self.clients:
            self.client_msgs += 1
            if trace is not None:
                trace.write(b'{"t":%d,"ev":"recv","id":%d}\n' % (self._stamp_ns, mid))
            token = OWNER.set(None)  # the client side is harness code, owned by no node
            try:
                self.client_handler(dest, orjson.loads(data))  # type: ignore[misc]
            finally:
                OWNER.reset(token)
            return
        self.server_msgs += 1
        if dest in self.nodes:
            for delay in self.network.delays(src, dest):
                if delay:
                    loop.call_harness_at(now + delay, self._arrive, mid, src, dest, data)
                else:
                    loop.call_harness_soon(self._arrive, mid, src, dest, data)
            return
        # Nowhere to go: tell the sender at once rather than let it time out.
        if slot is not None:
            what = "service" if dest in SERVICE_IDS else "destination"
            self.node_error(slot, f"message to unknown {what} {dest!r} dropped")
            msg_id = body.get("msg_id")
            if isinstance(msg_id, int):
                err = RPCError(NODE_NOT_FOUND, f"no such node or service: {dest}").to_body()
                err["in_reply_to"] = msg_id
                loop.call_soon(self._deliver_error, src, dest, err, context=WORLD)

    def _deliver_error(self, node_id: str, fake_src: str, body: dict[str, Any]) -> None:
        slot = self.nodes[node_id]
        if slot.alive and slot.node is not None:
            self._deliver(slot, slot.inc, Message(fake_src, node_id, body))  # type: ignore[arg-type]

    def _trace_event(self, ev: bytes, mid: int, extra: bytes = b"") -> None:
        if self.trace is not None:
            self.trace.write(b'{"t":%d,"ev":"%b","id":%d%b}\n' % (self._stamp(self.loop._now), ev, mid, extra))  # type: ignore[attr-defined]

    def _arrive(self, mid: int, src: str, dest: str, data: bytes) -> None:
        grudge = self.network.grudge
        if grudge and src in grudge.get(dest, ()):
            self.dropped += 1
            self._trace_event(b"drop", mid, b',"why":"partition"')
            return
        slot = self.nodes[dest]
        inc = slot.inc
        if inc is None or inc.dead or slot.node is None:
            self.dropped += 1
            self._trace_event(b"drop", mid, b',"why":"down"')
            return
        msg = Message(src, dest, orjson.loads(data))
        if inc.paused:
            self._park(slot, inc, msg, mid)
        else:
            self._deliver(slot, inc, msg, mid)

    def _park(self, slot: SimNode, inc: Incarnation, msg: Message, mid: int) -> None:
        # A stopped process's input waits in its pipe; so does this message.
        inc.parked.append(HarnessTimer(self.loop, 0.0, self._deliver, (slot, inc, msg, mid)))

    def _deliver(self, slot: SimNode, inc: Incarnation, msg: Message, mid: int = 0) -> None:
        if inc.dead or slot.node is None:
            return
        if mid and self.trace is not None:
            self.trace.write(b'{"t":%d,"ev":"recv","id":%d}\n' % (self._stamp(self.loop._now), mid))  # type: ignore[attr-defined]
        token = OWNER.set(inc)
        try:
            slot.node.receive(msg)
        except SimulationAbort:
            pass
        except Exception as exc:
            self.node_error(slot, f"receiving {msg.body.get('type')!r} failed: {type(exc).__name__}: {exc}")
        finally:
            OWNER.reset(token)

    def close(self) -> None:
        for slot in self.nodes.values():
            if slot.log_file is not None:
                slot.log_file.close()
                slot.log_file = None

