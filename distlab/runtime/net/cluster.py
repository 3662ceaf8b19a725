"""Nodes as processes in their own network namespaces, talking TCP through a bridge.

Process mode with a real network in the middle. A node written with distlab's
SDK opens its TCP links itself (the SDK's stdio host reads DISTLAB_NET); any
other node runs behind its proxy (`agent.py`), which keeps the node's
stdin/stdout and speaks TCP for it. Either way node-to-node messages are TCP
between namespaces, so the kernel delivers, delays and drops them, and the
nemesis acts on the kernel (`kernel.Fabric`). Clients and services still reach
a node over its stdin/stdout, as in process mode, and are never faulted. Kill
and pause are SIGKILL and SIGSTOP of the node's process group. The trace and
the counters come from the event lines of `links.Links`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import orjson

from distlab.runtime.net import agent
from distlab.runtime.net.kernel import PORT, Fabric, KernelNetwork
from distlab.runtime.net.links import ENV
from distlab.runtime.process.cluster import Limits, NodeProcess, ProcessCluster
from distlab.runtime.process.loop import RealLoop
from distlab.runtime.protocols import CAPABILITIES

_DROP_REASONS = {b"unreachable", b"refused", b"backlog"}


class NetCluster(ProcessCluster):
    capabilities = CAPABILITIES["net"]

    def __init__(
        self,
        loop: RealLoop,
        command: list[str],
        node_ids: list[str],
        network: KernelNetwork,
        work_dir: Path,
        fabric: Fabric,
        sdk: bool = False,
        trace: IO[bytes] | None = None,
        log_dir: Path | None = None,
        log_stderr: Callable[[str, str], None] | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.fabric = fabric
        self.sdk = sdk  # the node speaks TCP itself; otherwise a proxy does it for the node
        self._mids: dict[tuple[str, bytes], int] = {}  # (sending proxy, its seq) -> trace id
        self.kernel_stats: dict[str, dict[str, int]] = {}
        super().__init__(loop, command, node_ids, network, work_dir, trace, log_dir, log_stderr, limits=limits)
        extra = {name for name, ok in (("netem", fabric.netem), ("kernel-delay", fabric.netem or fabric.shaper),
                                       ("kernel-duplication", fabric.netem or fabric.dup)) if ok}
        self.capabilities = self.capabilities | extra
        self._shaper_fds: dict[str, int] = {}
        fabric.on_shaper = self._watch_shaper
        for node, proc in fabric.shapers.items():  # started when the network was attached
            self._watch_shaper(node, proc)
        # SIGTERM and SIGHUP end the run like a node failure would, so close() still deletes
        # the network (Ctrl-C already does: KeyboardInterrupt unwinds through the runner).
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, loop.abort, f"the harness got {signal.Signals(sig).name}")

    def command_for(self, node_id: str) -> list[str]:
        peers = ",".join(f"{n}={self.fabric.addresses[n]}:{PORT}" for n in self.node_ids)
        listen = f"{self.fabric.addresses[node_id]}:{PORT}"
        if self.sdk:
            return [*self.fabric.exec_prefix(node_id), "env", f"{ENV}={node_id}|{listen}|{peers}", *self.command]
        return [
            *self.fabric.exec_prefix(node_id), sys.executable, agent.__file__,
            "--me", node_id, "--listen", listen, "--peers", peers,
            "--", *self.command,
        ]

    def start(self, node_id: str) -> None:
        super().start(node_id)
        how = "the SDK's TCP transport" if self.sdk else "a proxy that keeps its stdin/stdout"
        self.nodes[node_id].log(f"[distlab] in namespace {self.fabric.namespaces[node_id]} at "
                                f"{self.fabric.addresses[node_id]}:{PORT}; peers over TCP through {how}")

    # ----- the delay shapers ----------------------------------------------------
    def _watch_shaper(self, node: str, proc: subprocess.Popen[bytes]) -> None:
        """A shaper that dies ends the run (see shaper.py on why there is no --queue-bypass)."""
        fd = os.pidfd_open(proc.pid)
        self._shaper_fds[node] = fd
        self.loop.add_reader(fd, self._shaper_exited, node)

    def _unwatch_shapers(self) -> None:
        for fd in self._shaper_fds.values():
            with contextlib.suppress(Exception):
                self.loop.remove_reader(fd)
            with contextlib.suppress(OSError):
                os.close(fd)
        self._shaper_fds.clear()

    def _shaper_exited(self, node: str) -> None:
        fd = self._shaper_fds.pop(node, None)
        if fd is not None:
            self.loop.remove_reader(fd)
            os.close(fd)
        if self.fabric.closing:
            return
        how = self.fabric.shaper_end(node)
        self.loop.abort(f"the delay shaper in {node}'s namespace {how}: packets it held are lost and "
                        f"{node}'s traffic is no longer delayed, so the run stops here")

    # ----- the event lines -----------------------------------------------------
    def _mid(self, key: tuple[str, bytes]) -> int:
        mid = self._mids.get(key)
        if mid is None:
            self.next_message_id = mid = self.next_message_id + 1
            self._mids[key] = mid
        return mid

    def _from_node(self, slot: NodeProcess, line: bytes) -> None:
        if not line.startswith(b"#"):
            super()._from_node(slot, line)
            return
        kind, _, rest = line.partition(b" ")
        try:
            if kind == b"#s":
                seq, _, msg_line = rest.partition(b" ")
                self._sent(slot, self._mid((slot.id, seq)), msg_line)
            elif kind == b"#r":
                sender, _, seq = rest.partition(b" ")
                key = (sender.decode(), seq)
                self._trace_event(b"recv", self._mids.pop(key, 0) or self._mid(key))
            elif kind == b"#d":
                seq, _, why = rest.partition(b" ")
                self.dropped += 1
                reason = why.strip() if why.strip() in _DROP_REASONS else b"down"
                self._trace_event(b"drop", self._mids.pop((slot.id, seq), 0), b',"why":"%b"' % reason)
        except (ValueError, UnicodeDecodeError):
            self.node_error(slot, "its network proxy wrote a line distlab cannot read")

    def _sent(self, slot: NodeProcess, mid: int, msg_line: bytes) -> None:
        """A node's message to a peer left over TCP: trace it and count it as route() would."""
        try:
            msg: Any = orjson.loads(msg_line)
            src, dest, body = msg["src"], msg["dest"], msg["body"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.node_error(slot, "wrote a stdout line that is not a protocol message (sent to a peer anyway)")
            return
        self.server_msgs += 1
        self._count_sent(slot)
        if self.trace is not None:
            try:
                data = orjson.dumps(body)
                self.trace.write(b'{"t":%d,"ev":"send","id":%d,"src":%b,"dest":%b,"body":%b}\n' % (
                    self._stamp(self.loop.now), mid, orjson.dumps(src), orjson.dumps(dest), data))
            except TypeError as exc:
                self.node_error(slot, f"message to {dest} could not be traced: {exc}")

    # ----- the end ----------------------------------------------------------------------
    def close(self, grace: float = 1.0) -> None:
        """Stop the processes, read the kernel's counters, then delete the network."""
        for sig in (signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(Exception):
                self.loop.remove_signal_handler(sig)
        self._unwatch_shapers()
        try:
            super().close(grace)
        finally:
            try:
                self.kernel_stats = self.fabric.stats()
            finally:
                self.fabric.close()
