"""The per-node proxy of --mode net: runs inside the node's namespace, in front of the node.

    python agent.py --me n1 --listen 10.77.0.2:7000 --peers n2=10.77.0.3:7000,... -- CMD...

The node is its child and keeps Maelstrom's stdin/stdout protocol, so any node
in any language runs unchanged. A line the node writes to another node goes
over TCP, from this namespace to the peer's proxy, which hands it to its node's
stdin: the kernel carries it, and the kernel's faults (nftables, netem) apply.
Anything else the node writes (replies to clients, requests to services, a
message to itself) goes up to the harness on our stdout; what the harness
writes to our stdin goes to the node.

The harness also gets one short event line per peer message, so the run's
trace and counters are what they are in the other modes:
    #s SEQ LINE     sent (SEQ numbers this proxy's messages)
    #r FROM SEQ     received from proxy FROM
    #d SEQ WHY      dropped here (peer unreachable, or its connection's backlog is full)
On the wire between proxies: a first line `hello ID`, then `SEQ LINE` per message.

Only the standard library: it starts quickly in every namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from typing import Any

MAX_LINE = 16 << 20
MAX_BACKLOG = 8 << 20  # bytes queued towards one peer before its messages are dropped
MAX_PENDING = 4096  # messages waiting for a connection to a peer
CONNECT_TIMEOUT = 1.0


class Peer:
    def __init__(self, agent: Agent, node: str, host: str, port: int) -> None:
        self.agent = agent
        self.node = node
        self.host, self.port = host, port
        self.writer: asyncio.StreamWriter | None = None
        self.pending: list[tuple[int, bytes]] = []
        self.connecting = False

    def send(self, seq: int, line: bytes) -> None:
        frame = b"%d %b" % (seq, line)
        writer = self.writer
        if writer is not None and not writer.is_closing():
            if writer.transport.get_write_buffer_size() > MAX_BACKLOG:
                self.agent.event(b"#d %d backlog\n" % seq)
                return
            writer.write(frame)
            return
        if len(self.pending) >= MAX_PENDING:
            self.agent.event(b"#d %d backlog\n" % seq)
            return
        self.pending.append((seq, frame))
        if not self.connecting:
            self.connecting = True
            asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), CONNECT_TIMEOUT)
        except (TimeoutError, OSError) as exc:
            why = b"unreachable" if isinstance(exc, TimeoutError) else b"refused"
            for seq, _ in self.pending:
                self.agent.event(b"#d %d %b\n" % (seq, why))
            self.pending.clear()
            self.connecting = False
            return
        writer.write(b"hello %b\n" % self.agent.me.encode())
        for _, frame in self.pending:
            writer.write(frame)
        self.pending.clear()
        self.writer = writer
        self.connecting = False
        # The peer never writes back: EOF or an error means the connection is gone.
        with contextlib.suppress(OSError):
            await reader.read()
        if self.writer is writer:
            self.writer = None
        writer.close()


class Agent:
    def __init__(self, me: str, listen: tuple[str, int], peers: dict[str, tuple[str, int]], command: list[str]) -> None:
        self.me = me
        self.listen = listen
        self.peers = {node: Peer(self, node, host, port) for node, (host, port) in peers.items() if node != me}
        self.command = command
        self.seq = 0
        self.out = sys.stdout.buffer
        self.child: asyncio.subprocess.Process | None = None

    def event(self, line: bytes) -> None:
        self.out.write(line)
        self.out.flush()

    def to_node(self, line: bytes) -> None:
        child = self.child
        if child is not None and child.stdin is not None and not child.stdin.is_closing():
            child.stdin.write(line)

    async def _from_peer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            hello = await reader.readline()
            if not hello.startswith(b"hello "):
                return
            sender = hello[6:].strip()
            while True:
                frame = await reader.readline()
                if not frame.endswith(b"\n"):
                    return
                seq, _, line = frame.partition(b" ")
                self.to_node(line)
                self.event(b"#r %b %b\n" % (sender, seq))
        except (OSError, ValueError, asyncio.LimitOverrunError):
            return
        finally:
            writer.close()

    async def _from_node(self, stdout: asyncio.StreamReader) -> None:
        while True:
            try:
                line = await stdout.readline()
            except ValueError:  # a line over the limit: the harness would drop it too
                continue
            if not line:
                return
            if not line.endswith(b"\n"):
                line += b"\n"
            dest = _dest(line)
            peer = self.peers.get(dest) if dest is not None else None
            if peer is None:
                self.event(line)
                continue
            self.seq += 1
            self.event(b"#s %d %b" % (self.seq, line))
            peer.send(self.seq, line)

    async def _from_harness(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_LINE)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            try:
                line = await reader.readline()
            except ValueError:
                continue
            if not line:
                return
            self.to_node(line)

    async def run(self) -> int:
        server = await asyncio.start_server(self._from_peer, self.listen[0], self.listen[1], limit=MAX_LINE)
        self.child = child = await asyncio.create_subprocess_exec(
            *self.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=MAX_LINE,
        )
        assert child.stdout is not None
        reading = asyncio.ensure_future(self._from_node(child.stdout))
        harness = asyncio.ensure_future(self._from_harness())
        exited = asyncio.ensure_future(child.wait())
        await asyncio.wait({exited, harness}, return_when=asyncio.FIRST_COMPLETED)
        if not exited.done():  # the harness went away: the node's stdin closes, as in process mode
            if child.stdin is not None:
                child.stdin.close()
            try:
                await asyncio.wait_for(asyncio.shield(exited), 2.0)
            except TimeoutError:
                child.kill()
                await exited
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(reading, 1.0)  # what the node wrote before it exited
        server.close()
        code = exited.result()
        return code if code >= 0 else 128 - code


def _dest(line: bytes) -> str | None:
    try:
        msg: Any = json.loads(line)
    except ValueError:
        return None
    dest = msg.get("dest") if isinstance(msg, dict) else None
    return dest if isinstance(dest, str) else None


def _addr(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print("usage: agent.py --me ID --listen HOST:PORT --peers ID=HOST:PORT,... -- COMMAND...", file=sys.stderr)
        return 2
    split = argv.index("--")
    opts, command = argv[:split], argv[split + 1 :]
    args = dict(zip(opts[::2], opts[1::2], strict=False))
    peers = {}
    for item in filter(None, args.get("--peers", "").split(",")):
        node, _, addr = item.partition("=")
        peers[node] = _addr(addr)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    agent = Agent(args["--me"], _addr(args["--listen"]), peers, command)
    try:
        return asyncio.run(agent.run())
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"[distlab net proxy] {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code)
