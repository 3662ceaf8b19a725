"""--log-net-send / --log-net-recv: Maelstrom's message logging, read off the message trace.

Maelstrom logs each message as its network sends or delivers it. Here every
message already goes through messages.jsonl, so these flags tee that trace:
the file gets exactly the bytes it always gets (the trace hash is unchanged),
and stderr gets one readable line per send and/or receive, stamped as
--log-stderr stamps node output.
"""

from __future__ import annotations

import sys
from typing import IO, Any

import orjson


class NetLog:
    """A stand-in for the trace file that also writes send/recv lines to `out`."""

    def __init__(self, trace: IO[bytes], send: bool, recv: bool, out: IO[str] | None = None) -> None:
        self.trace = trace
        self.send = send
        self.recv = recv
        self.out = out if out is not None else sys.stderr
        # A recv event carries only the message id: remember what was sent until it arrives.
        self._in_flight: dict[int, str] = {}

    def write(self, data: bytes) -> int:
        written = self.trace.write(data)
        for line in data.splitlines():
            self._log(orjson.loads(line))
        return written

    def _log(self, event: dict[str, Any]) -> None:
        ev, mid = event.get("ev"), event.get("id")
        stamp = f"{event.get('t', 0) / 1e9:10.3f} net"
        if ev == "send":
            text = orjson.dumps({k: event[k] for k in ("id", "src", "dest", "body") if k in event}).decode()
            if self.send:
                self.out.write(f"{stamp} | send {text}\n")
            if self.recv and isinstance(mid, int):
                self._in_flight[mid] = text
        elif ev == "recv" and self.recv:
            text = self._in_flight.pop(mid, None) if isinstance(mid, int) else None
            self.out.write(f"{stamp} | recv {text if text is not None else f'#{mid} (a duplicate)'}\n")
        elif ev == "drop" and isinstance(mid, int):
            self._in_flight.pop(mid, None)  # lost, never received: nothing to log

    def flush(self) -> None:
        self.trace.flush()

    def close(self) -> None:
        self.trace.close()
