"""Grades a key/value server that serves many clients at once (Talent Plan TP 201
project 5): the learner's file runs as `python kvs_server.py --addr 127.0.0.1:PORT` in
a fresh data folder, and the grader holds 50 connections open at once, stalls a client
in the middle of a command, drops one mid-command, and has 20 clients pipeline writes
together, with a real `redis-cli` on the side. The server is always killed at the end;
every wait is bounded (5 s for a reply), so a server that blocks fails with a reason."""

from __future__ import annotations

import random
import signal
import socket
import threading
from collections.abc import Callable

from distlab.tracks.procgrade import (
    Failure,
    Server,
    check_binary_safe,
    command,
    learner_file,
    read_replies,
    redis_cli,
    scratch,
)

REPLY_WAIT = 5.0


def _connect(server: Server, what: str) -> socket.socket:
    try:
        return socket.create_connection(("127.0.0.1", server.port), timeout=REPLY_WAIT)
    except OSError as exc:
        raise Failure(f"{what}: could not connect within {REPLY_WAIT:g} s ({exc})") from None


def _bulk(value: str) -> bytes:
    raw = value.encode()
    return b"$%d\r\n%s\r\n" % (len(raw), raw)


def _cli(server: Server, *args: str, want: str, during: str) -> None:
    try:
        got = redis_cli(server.port, *args, timeout=REPLY_WAIT)
    except Failure as exc:
        raise Failure(f"{during}, {exc}") from None
    if got != want + "\n":
        raise Failure(f"{during}, `redis-cli {' '.join(args)}` printed {got.rstrip()!r}; expected {want!r}")


def fifty_connections(server: Server, rng: random.Random) -> None:
    socks: list[socket.socket] = []
    try:
        for i in range(50):
            socks.append(_connect(server, f"opening connection {i + 1} of 50 (the others still open)"))
        values = [f"conn{i}-{rng.randrange(10**9)}" for i in range(50)]
        for i, sock in enumerate(socks):
            sock.sendall(command("SET", f"c{i}", values[i]))
        for i, sock in enumerate(socks):
            got = read_replies(sock, 1, REPLY_WAIT, f"with 50 connections open at once, connection {i + 1}'s "
                               f"SET c{i}")[0]
            if got != b"+OK\r\n":
                raise Failure(f"with 50 connections open at once, SET c{i} on connection {i + 1} got {got!r}")
        for i, sock in enumerate(reversed(socks)):
            j = 49 - i
            sock.sendall(command("GET", f"c{(j + 1) % 50}"))
            got = read_replies(sock, 1, REPLY_WAIT, f"with 50 connections open at once, connection {j + 1}'s "
                               f"GET c{(j + 1) % 50}")[0]
            if got != _bulk(values[(j + 1) % 50]):
                raise Failure(f"with 50 connections open at once, GET c{(j + 1) % 50} on connection {j + 1} "
                              f"got {got!r}; expected {_bulk(values[(j + 1) % 50])!r}")
    finally:
        for sock in socks:
            sock.close()


def slow_client(server: Server, rng: random.Random) -> None:
    during = "while another client had sent half a command (and waited)"
    data = command("SET", "slow", "sent-in-two-halves")
    with _connect(server, "the slow client") as slow:
        slow.sendall(data[:len(data) // 2])
        _cli(server, "SET", "quick", "1", want="OK", during=during)
        _cli(server, "GET", "quick", want="1", during=during)
        _cli(server, "PING", want="PONG", during=during)
        slow.sendall(data[len(data) // 2:])
        got = read_replies(slow, 1, REPLY_WAIT, "the slow client's SET, once its second half came")[0]
        if got != b"+OK\r\n":
            raise Failure(f"the slow client's SET got {got!r} once its second half came; expected b'+OK\\r\\n'")
    _cli(server, "GET", "slow", want="sent-in-two-halves", during="after the slow client's SET")


def idle_and_vanished(server: Server, rng: random.Random) -> None:
    with _connect(server, "an idle client"):
        _cli(server, "PING", want="PONG", during="while another client was connected and sent nothing")
    with _connect(server, "a client") as gone:
        gone.sendall(command("SET", "gone", "never-finished")[:12])
    _cli(server, "SET", "after", "ok", want="OK", during="after a client closed its connection in the middle "
         "of a command")
    _cli(server, "GET", "gone", want="", during="after a client closed its connection in the middle of a SET")


def clients_write_together(server: Server, rng: random.Random) -> None:
    clients, each = 20, 50
    values = {f"t{c}-{i}": f"v{c}-{i}-{rng.randrange(10**9)}" for c in range(clients) for i in range(each)}
    errors: list[str] = []

    def client(c: int) -> None:
        try:
            with _connect(server, f"client {c + 1} of {clients}") as sock:
                keys = [f"t{c}-{i}" for i in range(each)]
                sock.sendall(b"".join(command("SET", k, values[k]) for k in keys))
                what = f"with {clients} clients writing at once, client {c + 1}'s {each} pipelined SETs"
                if any(r != b"+OK\r\n" for r in read_replies(sock, each, 10, what)):
                    errors.append(f"{what} did not all get +OK")
                sock.sendall(b"".join(command("GET", k) for k in keys))
                got = read_replies(sock, each, 10, f"client {c + 1}'s {each} pipelined GETs")
                for k, g in zip(keys, got, strict=True):
                    if g != _bulk(values[k]):
                        errors.append(f"with {clients} clients writing at once, client {c + 1}'s GET {k} "
                                      f"got {g!r}; expected {_bulk(values[k])!r}")
                        return
        except Failure as exc:
            errors.append(str(exc))
        except OSError as exc:
            errors.append(f"with {clients} clients writing at once, client {c + 1}'s connection failed: {exc}")

    threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    if errors:
        raise Failure(errors[0])
    server.restart(signal.SIGTERM)
    keys = list(values)
    with _connect(server, "after a restart") as sock:
        sock.sendall(b"".join(command("GET", k) for k in keys))
        got = read_replies(sock, len(keys), 10, f"after a restart, {len(keys)} pipelined GETs")
    for k, g in zip(keys, got, strict=True):
        if g != _bulk(values[k]):
            raise Failure(f"after {clients} clients wrote at once and a restart, GET {k} got {g!r}; "
                          f"expected {_bulk(values[k])!r}")


SCENARIOS: dict[str, Callable[[Server, random.Random], None]] = {
    "50 connections open at once": fifty_connections,
    "a slow client does not block others": slow_client,
    "idle and vanished clients": idle_and_vanished,
    "keys and values that are not UTF-8 text": lambda server, rng: check_binary_safe(server),
    "20 clients pipelining writes at once, then a restart": clients_write_together,
}


def scenarios() -> list[str]:
    """The graded scenarios, in the order they run."""
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    """Start `python FILE --addr 127.0.0.1:PORT` in a fresh folder, run one scenario
    against it, and kill it; None if it passed, else the reason."""
    try:
        file = learner_file(target)
        with scratch("distlab-kvs-async-") as tmp, Server(file, tmp / "data") as server:
            SCENARIOS[name](server, random.Random(seed))
    except Failure as exc:
        return str(exc)
    except OSError as exc:
        return f"a connection to your server failed in {name!r}: {exc}"
    return None
