"""A key/value server speaking Redis's protocol (RESP2), sans-I/O: `feed(bytes)` takes
what arrived on a connection and returns what to send back, so the same object serves
a socket (see hints.md) or a test. Data lives in a log file in the folder."""

from __future__ import annotations

import json
import os
from pathlib import Path


class KvServer:
    """PING, SET, GET and DEL over RESP arrays of bulk strings, persisted in `folder`."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        self.data: dict[str, str] = {}
        self.log = open(path / "data.log", "a+b")  # noqa: SIM115 - open for the server's life
        self.log.seek(0)
        for line in self.log:
            if not line.endswith(b"\n"):
                break  # a torn last record (see the crash-safety task)
            record = json.loads(line)
            if record[0] == "set":
                self.data[record[1]] = record[2]
            else:
                self.data.pop(record[1], None)
        self.buffer = b""

    def _write(self, record: list[str]) -> None:
        self.log.write(json.dumps(record).encode() + b"\n")
        self.log.flush()

    def feed(self, data: bytes) -> bytes:
        """Bytes received -> bytes to send: a reply for every complete command, in order;
        an incomplete one waits in the buffer for the next feed."""
        self.buffer += data
        out = []
        while True:
            parsed = _parse_command(self.buffer)
            if parsed is None:
                break
            args, used = parsed
            self.buffer = self.buffer[used:]
            out.append(self.execute(args))
        return b"".join(out)

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
            self._write(["set", key, value])
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
                    del self.data[key]
                    self._write(["rm", key])
                    removed += 1
            return b":%d\r\n" % removed
        return f"-ERR unknown command '{name}'\r\n".encode()

    def close(self) -> None:
        """Release the log (the folder can be served again)."""
        self.log.close()


def _parse_command(buf: bytes) -> tuple[list[bytes], int] | None:
    """A RESP array of bulk strings at the start of `buf` and the bytes it used, or None
    if it is not all there yet. Lengths are read from the headers, never by splitting
    on CRLF, so values may contain any bytes."""
    if not buf.startswith(b"*"):
        end = buf.find(b"\r\n")
        return None if end < 0 else ([], end + 2)  # not an array: answered as an error
    end = buf.find(b"\r\n")
    if end < 0:
        return None
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
