"""HTTP over a Unix socket, stdlib only: the coordinator serves JSON requests, workers
post them. A Unix socket needs no free port and its path doubles as the rendezvous:
every process of a job runs in the same directory and finds it by name."""

from __future__ import annotations

import http.client
import json
import os
import socket
import socketserver
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

DEFAULT_SOCKET = "mr-socket"
"""Relative to the job's directory, so the path stays short whatever the directory."""

Handler = Callable[[str, dict[str, Any]], dict[str, Any]]


def socket_path() -> str:
    """The socket every process of a job uses: DISTLAB_MR_SOCKET, else `mr-socket`."""
    return os.environ.get("DISTLAB_MR_SOCKET") or DEFAULT_SOCKET


class CoordinatorGone(Exception):
    """The coordinator cannot be reached: a worker takes it as the end of the job."""


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            reply = self.server.handle(self.path.strip("/"), body)
            status = 200
        except Exception as exc:  # a bad request must not take the coordinator down
            reply, status = {"error": str(exc)}, 400
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def address_string(self) -> str:  # a Unix socket's peer has no address
        return "local"

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, handle: Handler) -> None:
        self.handle = handle
        super().__init__(path, _RequestHandler)


def serve(path: str, handle: Handler) -> socketserver.BaseServer:
    """Bind `path` (replacing a stale socket left by a killed coordinator) and return the
    server; the caller runs `serve_forever` in a thread and `shutdown` at the end."""
    if os.path.exists(path):
        os.unlink(path)
    return _Server(path, handle)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def call(path: str, route: str, body: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    """POST `body` to `route` and return the JSON reply; CoordinatorGone if nobody answers."""
    conn = _UnixConnection(path, timeout)
    try:
        conn.request("POST", "/" + route, json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        reply = json.loads(response.read() or b"{}")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise CoordinatorGone(str(exc)) from exc
    finally:
        conn.close()
    if response.status != 200:
        raise CoordinatorGone(f"coordinator answered {response.status}: {reply.get('error')}")
    return reply
