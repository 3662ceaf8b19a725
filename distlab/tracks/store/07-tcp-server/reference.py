"""A key/value server any Redis client can use: the store of the earlier tasks behind
RESP on a real socket, one thread per connection, data in the current folder. A reply
is sent only after its record is written and flushed, so a killed server loses nothing
it acknowledged.

Run: python kvs_server.py --addr 127.0.0.1:4000"""

from __future__ import annotations

import argparse
import json
import socketserver
import sys
import threading
from pathlib import Path

LOG = "kvs.log"


class Store:
    """A log of JSON records (["set", k, v] / ["rm", k]) replayed into a dict on start;
    a torn last record (a crash mid-write) is cut off before appending. (Compaction, as
    in the compaction task, is left out to keep the server in view.)"""

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


class Handler:
    """Sans-I/O RESP: bytes in, replies out, a partial command kept for the next read."""

    def __init__(self, store: Store, lock: threading.Lock) -> None:
        self.store, self.lock, self.buffer = store, lock, b""

    def feed(self, data: bytes) -> bytes:
        self.buffer += data
        out = []
        while (parsed := parse(self.buffer)) is not None:
            args, used = parsed
            self.buffer = self.buffer[used:]
            with self.lock:
                out.append(self.execute(args))
        return b"".join(out)

    def execute(self, args: list[bytes]) -> bytes:
        if not args:
            return b"-ERR empty command\r\n"
        name = args[0].decode(errors="replace").upper()
        want = {"PING": 1, "SET": 3, "GET": 2}
        if name in want and len(args) != want[name] or name == "DEL" and len(args) < 2:
            return f"-ERR wrong number of arguments for '{name.lower()}' command\r\n".encode()
        data = self.store.data
        if name == "PING":
            return b"+PONG\r\n"
        if name == "SET":
            # keys and values are any bytes (RESP is binary-safe), not only UTF-8 text:
            # latin-1 maps each byte to one character and back, so they live as str here
            key, value = args[1].decode("latin-1"), args[2].decode("latin-1")
            self.store.write(["set", key, value])
            data[key] = value
            return b"+OK\r\n"
        if name == "GET":
            value = data.get(args[1].decode("latin-1"))
            if value is None:
                return b"$-1\r\n"
            raw = value.encode("latin-1")
            return b"$%d\r\n%s\r\n" % (len(raw), raw)
        if name == "DEL":
            removed = 0
            for arg in args[1:]:
                key = arg.decode("latin-1")
                if key in data:
                    self.store.write(["rm", key])
                    del data[key]
                    removed += 1
            return b":%d\r\n" % removed
        return f"-ERR unknown command '{name}'\r\n".encode()


def parse(buf: bytes) -> tuple[list[bytes], int] | None:
    """One command at the front of `buf` and the bytes it used, or None if incomplete.
    Inline commands (`PING\\r\\n`, as telnet sends) are split on spaces."""
    end = buf.find(b"\r\n")
    if end < 0:
        return None
    if not buf.startswith(b"*"):
        return buf[:end].split(), end + 2
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kvs-server")
    parser.add_argument("--addr", default="127.0.0.1:4000", help="IP:PORT to listen on")
    args = parser.parse_args(argv)
    host, _, port = args.addr.rpartition(":")
    store, lock = Store(Path.cwd()), threading.Lock()

    class Connection(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            handler = Handler(store, lock)
            while data := self.request.recv(65536):
                self.request.sendall(handler.feed(data))

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    with socketserver.ThreadingTCPServer((host, int(port)), Connection) as server:
        print(f"kvs-server listening on {args.addr}", file=sys.stderr, flush=True)
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
