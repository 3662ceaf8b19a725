"""kvs_server.py: your store as a server any Redis client can talk to.

    python kvs_server.py --addr 127.0.0.1:4000     (data in the current folder)
    redis-cli -p 4000 SET greeting hello

Paste your KvServer from the redis-protocol task below, then fill in the socket loop."""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path


class KvServer:
    """TODO: your sans-I/O server from store/redis-protocol: feed(bytes) -> bytes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def feed(self, data: bytes) -> bytes:
        return b""


def serve(conn: socket.socket, server: KvServer) -> None:
    """TODO: until the client closes the connection (recv returns b""): receive bytes,
    feed them to the server, send back all it returns."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kvs-server")
    parser.add_argument("--addr", default="127.0.0.1:4000", help="IP:PORT to listen on")
    args = parser.parse_args(argv)
    host, _, port = args.addr.rpartition(":")
    server = KvServer(Path.cwd())
    with socket.create_server((host, int(port))) as listener:
        print(f"kvs-server listening on {args.addr}", file=sys.stderr, flush=True)
        while True:
            conn, _ = listener.accept()
            with conn:
                serve(conn, server)


if __name__ == "__main__":  # the grader imports main() to find this file, then runs it
    sys.exit(main())
