"""kvs_server.py: your server, serving every client at once on one asyncio event loop.

    python kvs_server.py --addr 127.0.0.1:4000     (data in the current folder)

Paste your store and RESP parsing from the tcp-server task, then fill in
serve_connection: it runs once per connection, as a coroutine."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path


class KvServer:
    """TODO: your store and RESP handling from the tcp-server task: feed(bytes) -> bytes
    for one connection's bytes. (One object per connection, sharing one store, keeps each
    connection's partial command apart.)"""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def feed(self, data: bytes) -> bytes:
        return b""


async def serve_connection(server: KvServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """TODO: loop `data = await reader.read(65536)` until it returns b"", writing back
    `writer.write(...)` then `await writer.drain()`; close the writer at the end."""
    writer.close()


async def serve(host: str, port: int) -> None:
    server = KvServer(Path.cwd())
    listener = await asyncio.start_server(lambda r, w: serve_connection(server, r, w), host, port)
    print(f"kvs-server listening on {host}:{port}", file=sys.stderr, flush=True)
    async with listener:
        await listener.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kvs-server")
    parser.add_argument("--addr", default="127.0.0.1:4000", help="IP:PORT to listen on")
    args = parser.parse_args(argv)
    host, _, port = args.addr.rpartition(":")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(host, int(port)))
    return 0


if __name__ == "__main__":  # the grader imports main() to find this file, then runs it
    sys.exit(main())
