"""kvs-client: set/get/rm against a kvs-server (or any redis), with the ``kvs`` CLI's contract.

``get`` of a missing key prints ``Key not found`` and exits 0; ``rm`` of a missing key prints
``Key not found`` and exits 1; a server that cannot be reached, or that answers with an
error, gives one line on stderr and exit 1.  It speaks plain RESP over one socket, through
:mod:`distlab.systems.kvs.resp`, so it needs nothing beyond the standard library and click.
"""

from __future__ import annotations

import os
import socket
import sys

import click

from distlab import __version__
from distlab.systems.kvs.resp import (
    INCOMPLETE,
    ProtocolError,
    Reply,
    ReplyError,
    ReplyParser,
    encode_command,
)

__all__ = ["KvsClient", "KvsClientError", "main"]


class KvsClientError(Exception):
    """The server could not be reached, broke the protocol, or replied with an error."""


class KvsClient:
    """A minimal blocking RESP client: one command, one reply."""

    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.addr = f"{host}:{port}"
        try:
            self._sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise KvsClientError(f"cannot connect to {self.addr}: {reason}") from exc
        self._parser = ReplyParser()

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> KvsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, *args: bytes) -> Reply:
        """Send one command and return its reply; error replies raise KvsClientError."""
        try:
            self._sock.sendall(encode_command(*args))
            while True:
                reply = self._parser.next_reply()
                if reply is not INCOMPLETE:
                    break
                data = self._sock.recv(65536)
                if not data:
                    raise KvsClientError(f"{self.addr} closed the connection")
                self._parser.feed(data)
        except TimeoutError as exc:
            raise KvsClientError(f"{self.addr} did not answer in time") from exc
        except OSError as exc:
            raise KvsClientError(f"lost connection to {self.addr}: {exc.strerror or exc}") from exc
        except ProtocolError as exc:
            raise KvsClientError(f"{self.addr}: {exc}") from exc
        if isinstance(reply, ReplyError):
            raise KvsClientError(f"server error: {reply}")
        return reply  # type: ignore[return-value]

    def set(self, key: bytes, value: bytes) -> None:
        self.call(b"SET", key, value)

    def get(self, key: bytes) -> bytes | None:
        reply = self.call(b"GET", key)
        if reply is not None and not isinstance(reply, bytes):
            raise KvsClientError(f"unexpected reply to GET: {reply!r}")
        return reply

    def remove(self, key: bytes) -> bool:
        """True if the key was there (DEL counted it)."""
        reply = self.call(b"DEL", key)
        if not isinstance(reply, int):
            raise KvsClientError(f"unexpected reply to DEL: {reply!r}")
        return reply > 0


def _arg(text: str) -> bytes:
    # surrogateescape: command-line bytes that are not UTF-8 go to the server unchanged.
    return os.fsencode(text)


def _parse_addr(addr: str) -> tuple[str, int]:
    host, sep, port = addr.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise click.BadParameter(f"expected HOST:PORT, got {addr!r}", param_hint="--addr")
    return host.strip("[]"), int(port)


addr_option = click.option(
    "--addr", default="127.0.0.1:4000", show_default=True, help="Server HOST:PORT."
)


def _connect(addr: str) -> KvsClient:
    return KvsClient(*_parse_addr(addr))


def _fail(exc: Exception) -> None:
    click.echo(f"kvs-client: error: {exc}", err=True)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="kvs-client")
def main() -> None:
    """Talk to a kvs-server: set, get and rm string keys."""


@main.command("set")
@click.argument("key")
@click.argument("value")
@addr_option
def set_cmd(key: str, value: str, addr: str) -> None:
    """Set KEY to VALUE."""
    try:
        with _connect(addr) as client:
            client.set(_arg(key), _arg(value))
    except KvsClientError as exc:
        _fail(exc)


@main.command("get")
@click.argument("key")
@addr_option
def get_cmd(key: str, addr: str) -> None:
    """Print the value of KEY, or "Key not found" (exit 0)."""
    try:
        with _connect(addr) as client:
            value = client.get(_arg(key))
    except KvsClientError as exc:
        _fail(exc)
        return
    if value is None:
        click.echo("Key not found")
    else:
        sys.stdout.buffer.write(value + b"\n")
        sys.stdout.flush()


@main.command("rm")
@click.argument("key")
@addr_option
def rm_cmd(key: str, addr: str) -> None:
    """Remove KEY; a missing key prints "Key not found" and exits 1."""
    try:
        with _connect(addr) as client:
            found = client.remove(_arg(key))
    except KvsClientError as exc:
        _fail(exc)
        return
    if not found:
        click.echo("Key not found")
        sys.exit(1)


if __name__ == "__main__":
    main()
