"""kvs-server's status server (``--status-addr``): fail points over HTTP, as TiKV's, and metrics.

=======================  ======================================================================
GET /metrics             Prometheus text exposition (:mod:`~distlab.systems.kvs.metrics`)
GET /fail                every configured fail point, one ``name=actions`` line each
GET /fail/NAME           that point's ``name=actions`` line, or 404
PUT /fail/NAME           configure NAME; the body is the actions (``return(x)``, ``1*panic``...);
                         400 with a one-line reason when they do not parse
DELETE /fail/NAME        remove NAME (wakes threads paused on it); 200 even if it was unset
=======================  ======================================================================

It runs on its own threads, so it still answers while a ``pause`` fail point holds the RESP
server's event loop: that is how a paused server is released.
"""

from __future__ import annotations

import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from prometheus_client.exposition import CONTENT_TYPE_LATEST

from distlab import fail
from distlab.systems.kvs.metrics import KvsMetrics

__all__ = ["StatusServer"]

log = logging.getLogger("kvs-server")


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def _reply(self, code: int, body: bytes = b"", ctype: str = "text/plain; charset=utf-8") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _fail_name(self) -> str | None:
        path = urlsplit(self.path).path
        if not path.startswith("/fail/"):
            return None
        return unquote(path[len("/fail/") :])

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = urlsplit(self.path).path
        if path == "/metrics":
            self._reply(200, self.server.metrics.exposition(), CONTENT_TYPE_LATEST)
        elif path in ("/fail", "/fail/"):
            lines = "".join(f"{n}={a}\n" for n, a in fail.list_points())
            self._reply(200, lines.encode())
        elif (name := self._fail_name()) is not None:
            found = dict(fail.list_points()).get(name)
            if found is None:
                self._reply(404, f"fail point {name!r} is not configured\n".encode())
            else:
                self._reply(200, f"{name}={found}\n".encode())
        else:
            self._reply(404, b"not found: try /metrics or /fail\n")

    do_HEAD = do_GET  # noqa: N815

    def do_PUT(self) -> None:  # noqa: N802
        name = self._fail_name()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        if not name:
            self._reply(404, b"PUT /fail/NAME with the actions as the body\n")
            return
        try:
            fail.cfg(name, body.decode("utf-8", "replace").strip())
        except fail.FailPointError as exc:
            self._reply(400, f"{exc}\n".encode())
            return
        log.info("fail point %s set to %s", name, body.decode("utf-8", "replace").strip())
        self._reply(200)

    def do_DELETE(self) -> None:  # noqa: N802
        name = self._fail_name()
        if not name:
            self._reply(404, b"DELETE /fail/NAME\n")
            return
        if fail.remove(name):
            log.info("fail point %s removed", name)
        self._reply(200)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug("status: " + format, *args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    metrics: KvsMetrics


class StatusServer:
    """The HTTP status server on its own thread; ``close()`` stops it."""

    def __init__(self, host: str, port: int, metrics: KvsMetrics) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_cls = type("_StatusHTTPServer", (_HTTPServer,), {"address_family": family})
        self.httpd: _HTTPServer = server_cls((host, port), _Handler)
        self.httpd.metrics = metrics
        self.metrics = metrics
        self.address: tuple[str, int] = self.httpd.server_address[:2]  # type: ignore[assignment]
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="kvs-status", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        if self._thread.is_alive():
            self.httpd.shutdown()
        self.httpd.server_close()
