"""The per-node proxy of --mode net: runs inside the node's namespace, in front of the node.

    python agent.py --me n1 --listen 10.77.0.2:7000 --peers n2=10.77.0.3:7000,... -- CMD...

The node is its child and keeps Maelstrom's stdin/stdout protocol, so a node in
any language runs unchanged. A line the node writes to another node goes over
TCP (`links.Links`) from this namespace to the peer's proxy, which hands it to
its node's stdin: the kernel carries it, and the kernel's faults apply.
Anything else the node writes (replies to clients, requests to services, a
message to itself) goes up to the harness on our stdout, with the links' event
lines; what the harness writes to our stdin goes to the node.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys

from distlab.runtime.net.links import MAX_LINE, Links, dest_of, parse_addr, parse_peers


class Agent:
    def __init__(self, me: str, listen: tuple[str, int], peers: dict[str, tuple[str, int]], command: list[str]) -> None:
        self.out = sys.stdout.buffer
        self.links = Links(me, listen, peers, self.to_node, self.event)
        self.command = command
        self.child: asyncio.subprocess.Process | None = None

    def event(self, line: bytes) -> None:
        self.out.write(line)
        self.out.flush()

    def to_node(self, line: bytes) -> None:
        child = self.child
        if child is not None and child.stdin is not None and not child.stdin.is_closing():
            child.stdin.write(line)

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
            dest = dest_of(line)
            if dest is None or not self.links.send(dest, line):
                # A node's own line never passes for one of our event lines (which start with #):
                # the harness reports it as the garbage it is.
                self.event(b" " + line if line.startswith(b"#") else line)

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
        await self.links.start()  # listening before the node starts: peers may write at once
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
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reading, 1.0)  # what the node wrote before it exited
        self.links.close()
        code = exited.result()
        return code if code >= 0 else 128 - code


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print("usage: agent.py --me ID --listen HOST:PORT --peers ID=HOST:PORT,... -- COMMAND...", file=sys.stderr)
        return 2
    split = argv.index("--")
    opts, command = argv[:split], argv[split + 1 :]
    args = dict(zip(opts[::2], opts[1::2], strict=False))
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    agent = Agent(args["--me"], parse_addr(args["--listen"]), parse_peers(args.get("--peers", "")), command)
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
