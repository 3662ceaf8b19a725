"""An asynchronous key/value server (Talent Plan TP 201 project 5): one event loop
serves every connection, so a thousand idle or slow clients cost a thousand small
objects, not a thousand threads. The store's calls run on the loop between awaits,
one at a time, so they need no lock; a reply goes out after its record is flushed.

Run: python kvs_server.py --addr 127.0.0.1:4000   (data in the current folder)"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from pathlib import Path

LOG = "kvs.log"


class Store:
    """A log of JSON records replayed into a dict on start; a torn tail is cut off."""

    def __init__(self, folder: Path) -> None:
        self.data: dict[str, str] = {}
        self.log = open(folder / LOG, "a+b")  # noqa: SIM115 - open for the server's life
        self.log.seek(0)
        good = 0
        for line in self.log:
            if not line.endswith(b"\n"):
                break
            try:
                record = json.loads(line)
            except ValueError:
                break
            if record[0] == "set":
                self.data[record[1]] = record[2]
            else:
                self.data.pop(record[1], None)
            good += len(line)
        self.log.truncate(good)

    def write(self, record: list[str]) -> None:
        self.log.write(json.dumps(record).encode() + b"\n")
        self.log.flush()

    def execute(self, args: list[bytes]) -> bytes:
        """One command's reply."""
        if not args:
            return b"-ERR empty command\r\n"
        name = args[0].decode(errors="replace").upper()
        want = {"PING": 1, "SET": 3, "GET": 2}
        if name in want and len(args) != want[name] or name == "DEL" and len(args) < 2:
            return f"-ERR wrong number of arguments for '{name.lower()}' command\r\n".encode()
        if name == "PING":
            return b"+PONG\r\n"
        if name == "SET":
            # keys and values are any bytes (RESP is binary-safe), not only UTF-8 text:
            # latin-1 maps each byte to one character and back, so they live as str here
            key, value = args[1].decode("latin-1"), args[2].decode("latin-1")
            self.write(["set", key, value])
            self.data[key] = value
            return b"+OK\r\n"
        if name == "GET":
            value = self.data.get(args[1].decode("latin-1"))
            if value is None:
                return b"$-1\r\n"
            raw = value.encode("latin-1")
            return b"$%d\r\n%s\r\n" % (len(raw), raw)
        if name == "DEL":
            removed = 0
            for arg in args[1:]:
                key = arg.decode("latin-1")
                if key in self.data:
                    self.write(["rm", key])
                    del self.data[key]
                    removed += 1
            return b":%d\r\n" % removed
        return f"-ERR unknown command '{name}'\r\n".encode()


def parse(buf: bytes) -> tuple[list[bytes], int] | None:
    """One command at the front of `buf` and the bytes it used, or None if incomplete."""
    end = buf.find(b"\r\n")
    if end < 0:
        return None
    if not buf.startswith(b"*"):
        return buf[:end].split(), end + 2  # an inline command, as telnet sends
    count, pos, args = int(buf[1:end]), end + 2, []
    for _ in range(count):
        end = buf.find(b"\r\n", pos)
        if end < 0:
            return None
        size = int(buf[pos + 1:end])
        start = end + 2
        if len(buf) < start + size + 2:
            return None
        args.append(buf[start:start + size])
        pos = start + size + 2
    return args, pos


async def serve_connection(store: Store, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read what arrives, answer every complete command, keep the rest for later; a
    connection waiting for more bytes waits in `await`, and the loop serves others."""
    buffer = b""
    try:
        while data := await reader.read(65536):
            buffer += data
            replies = []
            while (parsed := parse(buffer)) is not None:
                args, used = parsed
                buffer = buffer[used:]
                replies.append(store.execute(args))
            if replies:
                writer.write(b"".join(replies))
                await writer.drain()
    except (ConnectionError, ValueError):
        pass  # a client that vanished or sent garbage: drop this connection only
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def serve(host: str, port: int) -> None:
    store = Store(Path.cwd())
    server = await asyncio.start_server(lambda r, w: serve_connection(store, r, w), host, port, backlog=1024)
    print(f"kvs-server listening on {host}:{port}", file=sys.stderr, flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kvs-server")
    parser.add_argument("--addr", default="127.0.0.1:4000", help="IP:PORT to listen on")
    args = parser.parse_args(argv)
    host, _, port = args.addr.rpartition(":")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(host, int(port)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
