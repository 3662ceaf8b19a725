"""Sockets shared by the asyncio and thread-pool servers: listening, and closing after an error."""

from __future__ import annotations

import contextlib
import socket
import time

__all__ = ["LINGER_SECONDS", "linger_close", "listen_socket"]

# How long a connection that broke the protocol may keep sending before we drop it; reading
# (and discarding) until then lets the error reply arrive instead of a TCP reset.
LINGER_SECONDS = 1.0


def listen_socket(host: str, port: int) -> socket.socket:
    """A non-blocking listening TCP socket (SO_REUSEADDR, so restarts need no wait)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def linger_close(conn: socket.socket) -> None:
    """Half-close and drain briefly, so the client reads our error instead of a reset."""
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(LINGER_SECONDS)
        deadline = time.monotonic() + LINGER_SECONDS
        while time.monotonic() < deadline and conn.recv(65536):
            pass
