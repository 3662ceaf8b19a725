"""The simulated cluster: nodes as module instances on one virtual-time loop.

It owns what a real cluster would: node lifecycles (load, crash, restart,
pause), each node's disk and clock, and the wire between them, which it routes
through the shared network model and records in the message trace.
"""

from __future__ import annotations

import asyncio
import functools
import random
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import orjson

from distlab import fail
from distlab.node.core import SDK_TAG, Node
from distlab.node.host import ADOPT
from distlab.node.storage import MemoryDisk, SimStorage
from distlab.protocol import Message
from distlab.report.node_errors import NodeEvents
from distlab.runtime.network import Network
from distlab.runtime.protocols import CAPABILITIES
from distlab.runtime.sim.loop import (
    OWNER,
    HarnessTimer,
    Incarnation,
    SimulationAbort,
    VirtualLoop,
)
from distlab.runtime.sim.sandbox import Sandbox
from distlab.runtime.wire import DEFAULT_FLOOD_LIMIT, Slot, Wire


class NodeCrashed(asyncio.CancelledError):
    """Unwinds a node's code after a fail point's panic crashed that node (see
    Runner's fail point hooks). A CancelledError: a task it passes through ends as
    cancelled, not as an error to report, and ``except Exception`` in node code does not
    catch it; the node is already dead, so nothing it scheduled will run."""


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
        # send(dest, body) goes straight to the wire. A crashed incarnation's code
        # never runs again (its work is parked in the graveyard), so no check here.
        self.send = functools.partial(cluster.route, slot.id)

    def send_as(self, src: str, dest: str, body: dict[str, Any]) -> None:
        """Send with another sender's `src`, which Maelstrom allows (see Wire.route_from)."""
        self._cluster.route_from(self._slot, src, dest, body)

    def now(self) -> float:
        return self._slot.clock.read(self._cluster.loop.time())

    def log(self, text: str) -> None:
        if not self._inc.dead:
            if text.startswith(SDK_TAG):  # the SDK's record of a handler error: counted
                self._cluster.node_events.feed(self._slot.id, self._cluster.loop.time(), text)
            self._slot.log(text)

    @property
    def storage(self) -> SimStorage:
        return self._storage


class SimNode(Slot):
    """One node's slot: survives crashes (disk, clock, log), unlike its incarnations."""

    def __init__(self, wire: Wire, node_id: str) -> None:
        super().__init__(wire, node_id)
        self.disk = MemoryDisk()
        self.clock = Clock()
        self.inc: Incarnation | None = None
        self.node: Node | None = None
        self.incarnations = 0

    @property
    def alive(self) -> bool:
        return self.inc is not None and not self.inc.dead


class SimCluster(Wire):
    """Nodes as module instances on one virtual-time loop, and the wire between them."""

    capabilities = CAPABILITIES["sim"]
    loop: VirtualLoop

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
        self.bin_path = bin_path
        self.seed = seed
        fail.seed(self.seed_for("fail"))  # p% fail points repeat with the run's seed
        source = bin_path.read_bytes()
        try:
            self._code = compile(source, str(bin_path), "exec")
        except SyntaxError as exc:
            raise SimulationAbort(f"{bin_path}: syntax error on line {exc.lineno}: {exc.msg}") from None
        self.node_events = NodeEvents()
        # Crashed incarnations, kept for the run: their tasks wait forever on handles in
        # their graveyard, and once a restart drops the last reference the cycle collector
        # would destroy those tasks, which asyncio reports as an error of the harness.
        self._buried: list[Incarnation] = []
        super().__init__(loop, node_ids, network, trace, log_dir, log_stderr, flood_limit)
        loop.exception_sink = self._loop_exception

    def make_slot(self, node_id: str) -> SimNode:
        return SimNode(self, node_id)

    def node_error(self, slot: Slot, text: str) -> None:
        self.node_events.protocol(slot.id, self.loop.time(), text)
        super().node_error(slot, text)

    # ----- seeds ----------------------------------------------------------------------
    def seed_for(self, *parts: Any) -> int:
        """A stable per-purpose seed: str hashing is randomised, so mix explicitly."""
        data = orjson.dumps([self.seed, *parts])
        h = 1469598103934665603
        for b in data:
            h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
        return h

    def _loop_exception(self, owner: Incarnation | None, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, NodeCrashed):
            return  # a fail point crashed the node inside a plain callback: nothing to report
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
        if slot.inc is not None and slot.inc.dead:
            self._buried.append(slot.inc)
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
        if not adopted[0].run_called:  # as a process it would exit before reading a message
            raise SimulationAbort(
                f"node {node_id}: {self.bin_path.name} never calls node.run(): as a real process "
                "(or under Maelstrom) it would exit at once without answering; end the file with "
                "`if __name__ == \"__main__\": node.run()`"
            )
        slot.node = adopted[0]
        slot.node.attach(host)
        slot.log(f"[distlab] started (incarnation {inc.number})")

    def save_disks(self, folder: Path) -> dict[str, dict[str, int]]:
        """Write each node's durable storage, as it stands, to folder/<node>.json (what a
        restart would find), and return each disk's statistics and high-water marks."""
        folder.mkdir(parents=True, exist_ok=True)
        stats = {}
        for node_id, slot in self.nodes.items():
            disk = slot.disk
            contents = {k: orjson.loads(v) for k, v in sorted(disk.durable.items())}
            (folder / f"{node_id}.json").write_bytes(orjson.dumps(contents))
            stats[node_id] = disk.stats()
        return stats

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

    def set_clock(self, node_id: str, **clock: float) -> None:
        """Skew what this node sees as now (Clock's fields: offset, drift, strobe); the clock fault's hook."""
        c = self.nodes[node_id].clock
        for key, value in clock.items():
            setattr(c, key, value)

    def reset_clock(self, node_id: str) -> None:
        self.nodes[node_id].clock.reset()

    def alive(self, node_id: str) -> bool:
        return self.nodes[node_id].alive

    # ----- the wire (hooks of Wire) ------------------------------------------------------
    def _from_client(self, mid: int, src: str, dest: str, data: bytes, body: dict[str, Any]) -> None:
        slot = self.nodes[dest]
        inc = slot.inc
        node = slot.node
        if inc is None or inc.dead or node is None:
            self.dropped += 1
            self._trace_event(b"drop", mid, b',"why":"down"')
            return
        msg = Message(src, dest, body)  # the runner built it for this request alone: no copy needed
        if inc.paused:
            self._park(slot, inc, msg, mid)
            return
        # _deliver, inlined: every client request comes this way
        if self.trace is not None:
            self.trace.write(b'%b,"ev":"recv","id":%d}\n' % (self._stamp_t, mid))
        token = OWNER.set(inc)
        try:
            node.receive(msg)
        except (SimulationAbort, NodeCrashed):
            pass
        except Exception as exc:
            self.node_error(slot, f"receiving {msg.body.get('type')!r} failed: {type(exc).__name__}: {exc}")
        finally:
            OWNER.reset(token)

    def _deliver_error(self, node_id: str, fake_src: str, body: dict[str, Any]) -> None:
        slot = self.nodes[node_id]
        if slot.alive and slot.node is not None:
            self._deliver(slot, slot.inc, Message(fake_src, node_id, body))  # type: ignore[arg-type]

    def _arrive(self, mid: int, src: str, dest: str, data: bytes) -> None:
        if self._partitioned(mid, src, dest):
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
            self.trace.write(b'{"t":%d,"ev":"recv","id":%d}\n' % (self._stamp(self.loop.now), mid))
        token = OWNER.set(inc)
        try:
            slot.node.receive(msg)
        except (SimulationAbort, NodeCrashed):
            pass
        except Exception as exc:
            self.node_error(slot, f"receiving {msg.body.get('type')!r} failed: {type(exc).__name__}: {exc}")
        finally:
            OWNER.reset(token)
