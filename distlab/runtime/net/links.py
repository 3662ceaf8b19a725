"""TCP between nodes in --mode net, shared by the per-node proxy and the SDK's TCP transport.

One connection per ordered pair of nodes, opened by the sender on its first
message and again after it breaks; a message that cannot be handed to the
kernel (the peer refuses, does not answer within a second, or its backlog is
full) is dropped, as a real network would lose it. On the wire: a first line
`hello ID`, then one `SEQ LINE` per message, LINE being the Maelstrom JSON line.

Every message also yields a short event line for the harness, which keeps the
run's trace and counters as in the other modes:
    #s SEQ LINE     sent (SEQ numbers this node's messages)
    #r FROM SEQ     received from node FROM
    #d SEQ WHY      dropped here (unreachable, refused, backlog)

Only the standard library: the proxy starts quickly in every namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Callable
from typing import Any

MAX_LINE = 16 << 20
MAX_BACKLOG = 8 << 20  # bytes queued towards one peer before its messages are dropped
MAX_PENDING = 4096  # messages waiting for a connection to a peer
CONNECT_TIMEOUT = 1.0
ENV = "DISTLAB_NET"
"""Set for an SDK node in --mode net: `ME|HOST:PORT|ID=HOST:PORT,...` (its id, where it listens, its peers)."""


def parse_addr(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def parse_peers(text: str) -> dict[str, tuple[str, int]]:
    peers = {}
    for item in filter(None, text.split(",")):
        node, _, addr = item.partition("=")
        peers[node] = parse_addr(addr)
    return peers


def from_env() -> tuple[str, tuple[str, int], dict[str, tuple[str, int]]] | None:
    """(me, listen address, peers) from DISTLAB_NET, or None outside --mode net."""
    spec = os.environ.get(ENV)
    if not spec:
        return None
    me, listen, peers = spec.split("|")
    return me, parse_addr(listen), parse_peers(peers)


def dest_of(line: bytes) -> str | None:
    try:
        msg: Any = json.loads(line)
    except ValueError:
        return None
    dest = msg.get("dest") if isinstance(msg, dict) else None
    return dest if isinstance(dest, str) else None


class _Peer:
    def __init__(self, links: Links, host: str, port: int) -> None:
        self.links = links
        self.host, self.port = host, port
        self.writer: asyncio.StreamWriter | None = None
        self.pending: list[tuple[int, bytes]] = []
        self.connecting = False

    def send(self, seq: int, line: bytes) -> None:
        frame = b"%d %b" % (seq, line)
        writer = self.writer
        if writer is not None and not writer.is_closing():
            if writer.transport.get_write_buffer_size() > MAX_BACKLOG:
                self.links.event(b"#d %d backlog\n" % seq)
                return
            writer.write(frame)
            return
        if len(self.pending) >= MAX_PENDING:
            self.links.event(b"#d %d backlog\n" % seq)
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
                self.links.event(b"#d %d %b\n" % (seq, why))
            self.pending.clear()
            self.connecting = False
            return
        writer.write(b"hello %b\n" % self.links.me.encode())
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


class Links:
    """This node's TCP links: a listening socket for its peers' messages, a connection to each peer.

    `deliver(line)` gets each message that arrives; `event(line)` each event line for the harness.
    """

    def __init__(self, me: str, listen: tuple[str, int], peers: dict[str, tuple[str, int]],
                 deliver: Callable[[bytes], None], event: Callable[[bytes], None]) -> None:
        self.me = me
        self.listen = listen
        self.peers = {node: _Peer(self, host, port) for node, (host, port) in peers.items() if node != me}
        self.deliver = deliver
        self.event = event
        self.seq = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, self.listen[0], self.listen[1], limit=MAX_LINE)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    def send(self, dest: str, line: bytes) -> bool:
        """Send a message line to peer `dest` over TCP; False if `dest` is no peer (the caller routes it)."""
        peer = self.peers.get(dest)
        if peer is None:
            return False
        self.seq += 1
        self.event(b"#s %d %b" % (self.seq, line))
        peer.send(self.seq, line)
        return True

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
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
                self.event(b"#r %b %b\n" % (sender, seq))  # first: what the node sends in answer comes after
                self.deliver(line)
        except (OSError, ValueError, asyncio.LimitOverrunError):
            return
        finally:
            writer.close()
