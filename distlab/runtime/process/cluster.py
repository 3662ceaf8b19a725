"""Nodes as real OS processes speaking JSON lines, routed through the shared wire.

Each node is one process (its own session and process group, so a kill takes
its children too) running in its own working directory, which survives its
restarts. stdout carries protocol lines only; stderr goes to the node's log.
Whatever a node does wrong (garbage, huge lines, exiting, ignoring SIGTERM,
forking, flooding) is reported, and no process outlives the run.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from distlab.node.core import SDK_TAG
from distlab.protocol import MAX_LINE_BYTES, ProtocolError, decode
from distlab.report.node_errors import NodeEvents
from distlab.runtime.network import Network
from distlab.runtime.process.loop import RealLoop
from distlab.runtime.protocols import CAPABILITIES
from distlab.runtime.wire import Slot, Wire

READ_CHUNK = 1 << 16
MAX_BACKLOG_BYTES = 64 << 20
FAILPOINT_EXIT = 101
"""A node process's exit status when a fail point panicked in it (distlab.node.stdio)."""
"""Unread stdin a node may accumulate (it stopped reading) before messages to it are dropped."""
PROCESS_FLOOD_LIMIT = 10_000
"""Messages per real second one node may send: far above any sane node, far below the router's limit."""
MAX_LOG_BYTES = 64 << 20
"""A node's log stops growing here (a node spewing stderr must not fill the disk)."""
_SDK_TAG = SDK_TAG.encode()


class ProcessError(Exception):
    """A node process could not be started; the text says why in one line."""


@dataclass
class Limits:
    """Per-node resource limits (setrlimit in the child before exec); None = unlimited."""

    memory_mb: int | None = 2048
    open_files: int | None = 1024
    cpu_seconds: int | None = None

    def apply(self) -> None:
        # Data segment, not address space: runtimes such as the JVM and V8
        # reserve large address ranges they never touch.
        if self.memory_mb is not None:
            limit = self.memory_mb << 20
            resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        if self.open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.open_files, self.open_files))
        if self.cpu_seconds is not None:
            resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_seconds, self.cpu_seconds))


class NodeProcess(Slot):
    """One node's slot: its working directory and log outlive its processes."""

    def __init__(self, wire: Wire, node_id: str) -> None:
        super().__init__(wire, node_id)
        self.proc: subprocess.Popen[bytes] | None = None
        self.pidfd: int | None = None
        self.inbuf = bytearray()
        self.outbuf = bytearray()
        self.discarding = False
        self.killed = False  # stopped by the harness, so its exit is expected
        self.paused = False
        self.incarnations = 0
        self.log_bytes = 0
        self.log_partial = b""  # the start of a stderr line whose end has not come yet

    @property
    def alive(self) -> bool:
        return self.proc is not None and not self.killed and self.proc.returncode is None


class ProcessCluster(Wire):
    clock_name = "real"
    capabilities = CAPABILITIES["process"]
    loop: RealLoop

    def __init__(
        self,
        loop: RealLoop,
        command: list[str],
        node_ids: list[str],
        network: Network,
        work_dir: Path,
        trace: IO[bytes] | None = None,
        log_dir: Path | None = None,
        log_stderr: Callable[[str, str], None] | None = None,
        flood_limit: int = PROCESS_FLOOD_LIMIT,
        limits: Limits | None = None,
    ) -> None:
        self.command = list(command)
        self.work_dir = work_dir
        self.limits = limits or Limits()
        self.node_events = NodeEvents()
        self.node_env: dict[str, dict[str, str]] = {}  # extra environment per node
        # extra environment computed at each start (FAILPOINTS with the counts carried over)
        self.env_for: Callable[[str], dict[str, str]] | None = None
        # set by a run with --fail: a node that exits with FAILPOINT_EXIT crashed on purpose
        self.on_failpoint_exit: Callable[[str], None] | None = None
        super().__init__(loop, node_ids, network, trace, log_dir, log_stderr, flood_limit)
        loop.exception_sink = self._loop_exception

    def make_slot(self, node_id: str) -> NodeProcess:
        return NodeProcess(self, node_id)

    def node_error(self, slot: Slot, text: str) -> None:
        self.node_events.protocol(slot.id, self.loop.time(), text)
        super().node_error(slot, text)

    def _loop_exception(self, owner: Any, context: dict[str, Any]) -> None:
        self.loop.abort(f"internal error in the harness: {context.get('message')}: {context.get('exception')!r}")

    # ----- lifecycle ------------------------------------------------------------------
    def start(self, node_id: str) -> None:
        """Start (or restart) the node's process in its working directory."""
        slot: NodeProcess = self.nodes[node_id]
        workdir = self.work_dir / node_id
        workdir.mkdir(parents=True, exist_ok=True)
        self._settle(slot)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.node_env.get(node_id, {})}
        if self.env_for is not None:
            env.update(self.env_for(node_id))
        slot.incarnations += 1
        try:
            proc = subprocess.Popen(
                self.command_for(node_id),
                cwd=workdir,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group: a kill reaches its children
                preexec_fn=self.limits.apply,
                env=env,
            )
        except OSError as exc:
            raise ProcessError(f"cannot start {self.command[0]}: {exc.strerror or exc}") from None
        slot.proc = proc
        slot.killed = False
        slot.paused = False
        slot.inbuf.clear()
        slot.outbuf.clear()
        slot.discarding = False
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            os.set_blocking(stream.fileno(), False)  # type: ignore[union-attr]
        self.loop.add_reader(proc.stdout.fileno(), self._on_stdout, slot, proc)  # type: ignore[union-attr]
        self.loop.add_reader(proc.stderr.fileno(), self._on_stderr, slot, proc)  # type: ignore[union-attr]
        slot.pidfd = os.pidfd_open(proc.pid)
        self.loop.add_reader(slot.pidfd, self._on_exit, slot, proc)
        slot.log(f"[distlab] started pid {proc.pid} (incarnation {slot.incarnations})")

    def _settle(self, slot: NodeProcess) -> None:
        """Before a restart: if the killed incarnation's end has not been handled yet, reap it
        and read the rest of its stderr now, so what it last logged (a fail point's record)
        counts before the next one starts."""
        proc = slot.proc
        if proc is None or not slot.killed or slot.pidfd is None:
            return
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return
        self._on_exit(slot, proc)

    def command_for(self, node_id: str) -> list[str]:
        """The command line that starts this node (the same for all here; --mode net wraps it)."""
        return self.command

    def crash(self, node_id: str) -> None:
        """SIGKILL the node's whole process group; it is restarted later by start()."""
        slot: NodeProcess = self.nodes[node_id]
        if not slot.alive:
            return
        slot.killed = True
        slot.log("[distlab] killed (SIGKILL)")
        self._signal(slot, signal.SIGKILL)

    def pause(self, node_id: str) -> None:
        slot: NodeProcess = self.nodes[node_id]
        if slot.alive and not slot.paused:
            slot.paused = True
            slot.log("[distlab] paused (SIGSTOP)")
            self._signal(slot, signal.SIGSTOP)

    def resume(self, node_id: str) -> None:
        slot: NodeProcess = self.nodes[node_id]
        if slot.alive and slot.paused:
            slot.paused = False
            slot.log("[distlab] resumed (SIGCONT)")
            self._signal(slot, signal.SIGCONT)

    def alive(self, node_id: str) -> bool:
        return self.nodes[node_id].alive

    @staticmethod
    def _signal(slot: NodeProcess, sig: int) -> None:
        if slot.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(slot.proc.pid, sig)

    # ----- reading from a node --------------------------------------------------------
    def _read_rest(self, slot: NodeProcess, proc: subprocess.Popen[bytes]) -> bool:
        """Log what is left in a dead process's stderr pipe; False once it is empty."""
        before = slot.log_bytes
        self._on_stderr(slot, proc)
        return slot.log_bytes > before and slot.log_bytes < MAX_LOG_BYTES

    def _read(self, stream: Any) -> bytes:
        """What a readable pipe holds now; b"" (and no more watching) at its end."""
        fd = stream.fileno()
        try:
            data = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            return b""
        except OSError:
            data = b""
        if not data:
            self.loop.remove_reader(fd)
        return data

    def _on_stdout(self, slot: NodeProcess, proc: subprocess.Popen[bytes]) -> None:
        data = self._read(proc.stdout)
        if not data:
            return
        buf = slot.inbuf
        buf += data
        start = 0
        while True:
            end = buf.find(b"\n", start)
            if end < 0:
                break
            if slot.discarding:
                slot.discarding = False
            else:
                self._from_node(slot, bytes(buf[start:end]))
            start = end + 1
        del buf[:start]
        if len(buf) > MAX_LINE_BYTES:
            self.node_error(slot, f"wrote a stdout line over {MAX_LINE_BYTES} bytes; it was dropped")
            buf.clear()
            slot.discarding = True

    def _from_node(self, slot: NodeProcess, line: bytes) -> None:
        if not line.strip():
            return
        try:
            msg = decode(line)
        except ProtocolError as exc:
            self.node_error(slot, f"wrote a stdout line that is not a protocol message: {exc}")
            return
        try:
            self.route_from(slot, msg.src, msg.dest, msg.body)
        except ProtocolError as exc:
            self.node_error(slot, str(exc))

    def _on_stderr(self, slot: NodeProcess, proc: subprocess.Popen[bytes]) -> None:
        data = self._read(proc.stderr)
        if not data or slot.log_bytes >= MAX_LOG_BYTES:
            return
        slot.log_bytes += len(data)
        lines = (slot.log_partial + data).split(b"\n")
        slot.log_partial = lines.pop()
        if len(slot.log_partial) > READ_CHUNK:  # a line that does not end: log it as it is
            lines.append(slot.log_partial)
            slot.log_partial = b""
        self._log_lines(slot, lines)
        if slot.log_bytes >= MAX_LOG_BYTES and slot.log_file is not None:
            slot.log_file.write(b"[distlab] log limit reached; further stderr discarded\n")

    def _log_lines(self, slot: NodeProcess, lines: list[bytes]) -> None:
        """A node's stderr lines, each stamped (seconds since the run began) as it is read,
        like the simulator's log lines."""
        if not lines:
            return
        now = self.loop.time()
        for line in lines:
            if line.startswith(_SDK_TAG):  # an SDK node's record of a handler error: counted
                self.node_events.feed(slot.id, now, line)
        if slot.log_file is not None:
            stamp = b"%12.6f " % now
            slot.log_file.write(b"".join(stamp + line + b"\n" for line in lines))
            slot.log_file.flush()
        if self._log_stderr is not None:
            for line in lines:
                self._log_stderr(slot.id, line.decode("utf-8", "replace"))

    def _flush_log(self, slot: NodeProcess) -> None:
        """The process is gone: its last, unfinished line goes to the log too."""
        if slot.log_partial:
            partial, slot.log_partial = slot.log_partial, b""
            self._log_lines(slot, [partial])

    def _on_exit(self, slot: NodeProcess, proc: subprocess.Popen[bytes]) -> None:
        """The process ended (pidfd readable): reap it, take its group down, report if unexpected."""
        code = proc.wait()
        if proc.stderr is not None and not proc.stderr.closed:
            while self._read_rest(slot, proc):
                pass
        self._flush_log(slot)
        self._detach(proc)
        if slot.pidfd is not None and slot.proc is proc:
            self.loop.remove_reader(slot.pidfd)
            os.close(slot.pidfd)
            slot.pidfd = None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # children it left behind
        if slot.proc is not proc or slot.killed:
            return
        if code == FAILPOINT_EXIT and self.on_failpoint_exit is not None:
            slot.log(f"[distlab] exited at a fail point's panic (status {code})")
            self.on_failpoint_exit(slot.id)
            return
        how = f"signal {-code}" if code < 0 else f"status {code}"
        self.node_error(slot, f"exited on its own ({how})")
        self.loop.abort(f"node {slot.id} exited on its own ({how}); see node-logs/{slot.id}.log")

    def _detach(self, proc: subprocess.Popen[bytes]) -> None:
        for stream in (proc.stdout, proc.stderr, proc.stdin):
            if stream is None or stream.closed:
                continue
            fd = stream.fileno()
            self.loop.remove_reader(fd)
            self.loop.remove_writer(fd)
            with contextlib.suppress(OSError):
                stream.close()

    # ----- writing to a node ----------------------------------------------------------
    def _write(self, slot: NodeProcess, line: bytes) -> bool:
        """Queue a line on the node's stdin without ever blocking the harness."""
        proc = slot.proc
        if proc is None or not slot.alive or proc.stdin is None or proc.stdin.closed:
            return False
        if slot.outbuf:
            if len(slot.outbuf) > MAX_BACKLOG_BYTES:
                if not slot.paused:
                    self.node_error(slot, f"stopped reading stdin ({MAX_BACKLOG_BYTES >> 20} MB unread); messages dropped")
                return False
            slot.outbuf += line
            return True
        fd = proc.stdin.fileno()
        try:
            written = os.write(fd, line)
        except BlockingIOError:
            written = 0
        except OSError:
            return False  # it died; _on_exit reports that
        if written < len(line):
            slot.outbuf += line[written:]
            self.loop.add_writer(fd, self._flush, slot, proc)
        return True

    def _flush(self, slot: NodeProcess, proc: subprocess.Popen[bytes]) -> None:
        fd = proc.stdin.fileno()  # type: ignore[union-attr]
        try:
            written = os.write(fd, slot.outbuf)
        except BlockingIOError:
            return
        except OSError:
            slot.outbuf.clear()
            self.loop.remove_writer(fd)
            return
        del slot.outbuf[:written]
        if not slot.outbuf:
            self.loop.remove_writer(fd)

    def _deliver_line(self, mid: int, src: str, dest: str, data: bytes) -> None:
        slot: NodeProcess = self.nodes[dest]
        line = b'{"src":%b,"dest":%b,"body":%b}\n' % (orjson.dumps(src), orjson.dumps(dest), data)
        if self._write(slot, line):
            if mid:
                self._trace_event(b"recv", mid)
        else:
            self.dropped += 1
            if mid:
                self._trace_event(b"drop", mid, b',"why":"down"')

    def _from_client(self, mid: int, src: str, dest: str, data: bytes, body: dict[str, Any]) -> None:
        self._deliver_line(mid, src, dest, data)

    def _arrive(self, mid: int, src: str, dest: str, data: bytes) -> None:
        if not self._partitioned(mid, src, dest):
            self._deliver_line(mid, src, dest, data)

    def _deliver_error(self, node_id: str, fake_src: str, body: dict[str, Any]) -> None:
        self._deliver_line(0, fake_src, node_id, orjson.dumps(body))

    # ----- the end --------------------------------------------------------------------
    def close(self, grace: float = 1.0) -> None:
        """SIGTERM every node, SIGKILL what is left after `grace` seconds, reap all."""
        running = [s for s in self.nodes.values() if s.proc is not None and s.proc.poll() is None]
        for slot in running:
            slot.killed = True
            self._signal(slot, signal.SIGCONT)  # a paused process cannot act on SIGTERM
            self._signal(slot, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for slot in running:
            proc = slot.proc
            assert proc is not None
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.0, deadline - time.monotonic()))
            if proc.poll() is None:
                slot.log("[distlab] ignored SIGTERM; killed")
            self._signal(slot, signal.SIGKILL)  # the group: children too
            proc.wait()
        for slot in self.nodes.values():
            if slot.proc is not None:
                self._detach(slot.proc)
            if slot.pidfd is not None:
                with contextlib.suppress(Exception):
                    self.loop.remove_reader(slot.pidfd)
                os.close(slot.pidfd)
                slot.pidfd = None
        super().close()
