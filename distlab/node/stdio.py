"""Run a Node as a real process speaking JSON lines on stdin/stdout (Maelstrom's transport).

In `distlab test --mode net` (DISTLAB_NET set) messages to other nodes go over TCP
instead (distlab.runtime.net.links); clients and services stay on stdin/stdout.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, BinaryIO

from distlab.node.storage import FileStorage, Storage
from distlab.protocol import MAX_LINE_BYTES, ProtocolError, decode, encode
from distlab.runtime.net.links import Links, from_env

if TYPE_CHECKING:
    from distlab.node.core import Node


class StdioHost:
    """Host for a real process: wall clock, system randomness, a file-backed storage."""

    def __init__(self, node: Node, out: BinaryIO, err: BinaryIO) -> None:
        self._node = node
        self._out = out
        self._err = err
        self.random = random.Random()
        self._storage: FileStorage | None = None
        self.links: Links | None = None

    def send(self, dest: str, body: dict[str, Any]) -> None:
        line = encode({"src": self._node.id or "?", "dest": dest, "body": body})
        if self.links is not None and self.links.send(dest, line):
            return
        self._out.write(line)
        self._out.flush()

    def event(self, line: bytes) -> None:
        """A line for the harness only (--mode net's send/receive events)."""
        self._out.write(line)
        self._out.flush()

    def now(self) -> float:
        return time.time()

    def log(self, text: str) -> None:
        self._err.write(text.encode("utf-8", "replace") + b"\n")
        self._err.flush()

    @property
    def storage(self) -> Storage:
        if self._storage is None:
            # Storage lives under the working directory, which a harness keeps
            # across restarts of the same node; the node id keeps nodes apart.
            root = os.environ.get("DISTLAB_STORAGE_DIR", "distlab-data")
            self._storage = FileStorage(os.path.join(root, f"{self._node.id or 'node'}.jsonl"))
        return self._storage


def _read_stdin(loop: asyncio.AbstractEventLoop, inbox: asyncio.Queue[bytes | None]) -> None:
    # A thread, not connect_read_pipe: stdin may be a file or a tty, not only a pipe.
    stream = sys.stdin.buffer
    while True:
        line = stream.readline(MAX_LINE_BYTES + 2)
        if not line:
            break
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            # Skip the rest of an over-long line, so its tail is not read as a line.
            rest = line
            while rest and not rest.endswith(b"\n"):
                rest = stream.readline(MAX_LINE_BYTES + 2)
        loop.call_soon_threadsafe(inbox.put_nowait, line)
    loop.call_soon_threadsafe(inbox.put_nowait, None)


def _setup_failpoints(host: StdioHost) -> None:
    """FAILPOINTS (the harness sets it per node for --fail): a panic ends this process at
    once, as a Rust panic with abort would, losing whatever was not synced. Each counted
    step taken and each panic is reported to the harness as an SDK record, so it can name
    the point in the crash and carry the counts over to the next start (fail.RunCounts);
    so are the points configured and the first evaluation of each, so it can say which
    points no node reached."""
    import orjson

    from distlab import fail
    from distlab.node.core import SDK_TAG

    if not os.environ.get(fail.ENV_VAR):
        return
    try:
        names = fail.setup_from_env()
    except fail.FailPointError as exc:
        host.log(f"bad {fail.ENV_VAR}: {exc}")
        os._exit(2)

    def die(name: str, message: str) -> None:
        host.log(f"fail point {name}: {message}; exiting")
        os._exit(101)  # FAILPOINT_EXIT: the harness restarts the node, as after a kill

    def report(name: str, step: int, task: str, counted: bool) -> None:
        record = {"event": fail.RECORD_EVENT, "type": name, "step": step, "task": task, "counted": counted}
        host.log(SDK_TAG + orjson.dumps(record).decode())

    def said(name: str, task: str) -> None:  # no step: fail.RunCounts leaves it alone
        host.log(SDK_TAG + orjson.dumps({"event": fail.RECORD_EVENT, "type": name, "task": task}).decode())

    fail.set_panic_handler(die)
    fail.set_step_handler(report)
    fail.set_reach_handler(lambda name: said(name, "reached"))
    for name in names:
        said(name, "configured")


async def _serve(node: Node, out: BinaryIO, err: BinaryIO) -> None:
    host = StdioHost(node, out, err)
    node.attach(host)
    _setup_failpoints(host)
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[bytes | None] = asyncio.Queue()
    net = from_env()
    if net is not None:  # --mode net: peers over TCP, delivered through the same inbox as stdin
        host.links = Links(*net, deliver=inbox.put_nowait, event=host.event)
        await host.links.start()
    threading.Thread(target=_read_stdin, args=(loop, inbox), daemon=True).start()
    while True:
        line = await inbox.get()
        if line is None:
            break
        if not line.strip():
            continue
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            host.log(f"input line longer than {MAX_LINE_BYTES} bytes ignored")
            continue
        try:
            msg = decode(line)
        except ProtocolError as exc:
            host.log(f"ignored bad input: {exc}")
            continue
        node.receive(msg)
    # stdin closed: let requests already being handled finish (briefly), then stop.
    deadline = loop.time() + 2.0
    while node.inflight and loop.time() < deadline:
        await asyncio.sleep(0.01)
    for task in list(node._tasks):
        task.cancel()
    if host.links is not None:
        host.links.close()


def serve(node: Node) -> None:
    """Serve until stdin closes. stdout carries only protocol lines: print() goes to stderr."""
    out = sys.stdout.buffer
    err = sys.stderr.buffer
    sys.stdout = sys.stderr
    try:
        asyncio.run(_serve(node, out, err))
    except KeyboardInterrupt:
        pass
