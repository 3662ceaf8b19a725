"""Mutant: a global asyncio.Lock held from a command's first line until it has run."""

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
            key, value = args[1].decode(), args[2].decode()
            self.write(["set", key, value])
            self.data[key] = value
            return b"+OK\r\n"
        if name == "GET":
            value = self.data.get(args[1].decode())
            if value is None:
                return b"$-1\r\n"
            raw = value.encode()
            return b"$%d\r\n%s\r\n" % (len(raw), raw)
        if name == "DEL":
            removed = 0
            for arg in args[1:]:
                key = arg.decode()
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


async def read_command(reader: asyncio.StreamReader, line: bytes) -> list[bytes]:
    """The rest of the command whose first line is `line`, read from the stream."""
    if not line.startswith(b"*"):
        return line.split()
    args = []
    for _ in range(int(line[1:-2])):
        header = await reader.readline()
        size = int(header[1:-2])
        args.append((await reader.readexactly(size + 2))[:-2])
    return args


async def serve_connection(store: Store, lock: asyncio.Lock, reader: asyncio.StreamReader,
                           writer: asyncio.StreamWriter) -> None:
    try:
        while line := await reader.readline():
            async with lock:  # one command at a time against the store
                args = await read_command(reader, line)
                reply = store.execute(args)
            writer.write(reply)
            await writer.drain()
    except (ConnectionError, ValueError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def serve(host: str, port: int) -> None:
    store, lock = Store(Path.cwd()), asyncio.Lock()
    server = await asyncio.start_server(lambda r, w: serve_connection(store, lock, r, w), host, port, backlog=1024)
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
