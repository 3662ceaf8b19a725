"""Mutant: the blocking accept loop of the tcp-server task: one connection served at a time."""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import sys
import threading
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


def serve_connection(store: Store, lock: threading.Lock, conn: socket.socket) -> None:
    buffer = b""
    with conn:
        while data := conn.recv(65536):
            buffer += data
            replies = []
            while (parsed := parse(buffer)) is not None:
                args, used = parsed
                buffer = buffer[used:]
                with lock:
                    replies.append(store.execute(args))
            conn.sendall(b"".join(replies))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kvs-server")
    parser.add_argument("--addr", default="127.0.0.1:4000", help="IP:PORT to listen on")
    args = parser.parse_args(argv)
    host, _, port = args.addr.rpartition(":")
    store, lock = Store(Path.cwd()), threading.Lock()
    with socket.create_server((host, int(port)), backlog=128) as listener:
        print(f"kvs-server listening on {args.addr}", file=sys.stderr, flush=True)
        while True:
            conn, _ = listener.accept()
            with contextlib.suppress(OSError, ValueError):
                serve_connection(store, lock, conn)  # until this client closes

if __name__ == "__main__":
    sys.exit(main())
