"""Grades a key/value server program (Talent Plan TP 201 project 3's kvs-server): the
learner's file runs as `python kvs_server.py --addr 127.0.0.1:PORT` in a fresh data
folder (its working directory) and is driven by a real `redis-cli -p PORT` and by raw
sockets; it is restarted with SIGTERM and killed with SIGKILL, and must keep every write
it acknowledged. The server is always killed at the end, and every wait is bounded."""

from __future__ import annotations

import random
import signal
import socket
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


def _cli(server: Server, *args: str, want: str, note: str = "") -> None:
    got = redis_cli(server.port, *args)
    if got != want + "\n":
        shown = " ".join(args)
        raise Failure(f"`redis-cli {shown}` printed {got.rstrip(chr(10))!r}; expected {want!r}{note}")


def _script(server: Server, lines: list[str], want: list[str], what: str) -> None:
    """Several commands on one redis-cli connection (read from its stdin)."""
    try:
        got = redis_cli(server.port, stdin="\n".join(lines) + "\n").split("\n")[:-1]
    except Failure as exc:
        raise Failure(f"{what}: {exc}") from None
    for i, (line, w) in enumerate(zip(lines, want, strict=True)):
        g = got[i] if i < len(got) else None
        if g != w:
            shown = "no output" if g is None else repr(g)
            raise Failure(f"{what}: command {i + 1} of {len(lines)} ({line!r}) printed {shown}; expected {w!r}")


def ping(server: Server, rng: random.Random) -> None:
    _cli(server, "PING", want="PONG")


def set_get_del(server: Server, rng: random.Random) -> None:
    _cli(server, "SET", "greeting", "hello, wörld", want="OK")
    _cli(server, "GET", "greeting", want="hello, wörld")
    _cli(server, "GET", "nosuchkey", want="", note=" (nil: redis-cli prints an empty line)")
    _cli(server, "DEL", "greeting", "nosuchkey", want="1", note=" (DEL counts the keys it removed)")
    _cli(server, "GET", "greeting", want="", note=" after DEL greeting")


def _model_script(rng: random.Random, n: int) -> tuple[list[str], list[str]]:
    model: dict[str, str] = {}
    lines, want = [], []
    for step in range(n):
        key, roll = f"k{rng.randrange(5)}", rng.random()
        if roll < 0.45:
            value = f"v{step}-{rng.randrange(10**6)}"
            lines.append(f"SET {key} {value}")
            want.append("OK")
            model[key] = value
        elif roll < 0.8:
            lines.append(f"GET {key}")
            want.append(model.get(key, ""))
        else:
            lines.append(f"DEL {key}")
            want.append("1" if model.pop(key, None) is not None else "0")
    return lines, want


def one_connection(server: Server, rng: random.Random) -> None:
    lines, want = _model_script(rng, 30)
    _script(server, lines, want, "30 commands on one redis-cli connection")


def pipelined(server: Server, rng: random.Random) -> None:
    values = {f"p{i}": f"value-{i}-{rng.randrange(10**9)}" for i in range(100)}
    data = b"".join(command("SET", k, v) for k, v in values.items())
    data += b"".join(command("GET", k) for k in values)
    what = "200 pipelined commands sent in one write (100 SETs, then 100 GETs)"
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(data)
        replies = read_replies(sock, 200, 5, what)
    for i, (key, value) in enumerate(values.items()):
        if replies[i] != b"+OK\r\n":
            raise Failure(f"{what}: SET {key} got {replies[i]!r}; expected b'+OK\\r\\n'")
        raw = value.encode()
        want = b"$%d\r\n%s\r\n" % (len(raw), raw)
        if replies[100 + i] != want:
            raise Failure(f"{what}: GET {key} got {replies[100 + i]!r}; expected {want!r}")


def survives_restart(server: Server, rng: random.Random) -> None:
    values = {f"key{i}": f"value-{rng.randrange(10**9)}" for i in range(50)}
    lines = [f"SET {k} {v}" for k, v in values.items()] + ["DEL key0"]
    _script(server, lines, ["OK"] * 50 + ["1"], "50 SETs and a DEL")
    server.restart(signal.SIGTERM)
    gets = [f"GET {k}" for k in values]
    _script(server, gets, ["", *list(values.values())[1:]],
            "after SIGTERM and a restart on the same folder (SIGTERM ends a Python program without "
            "flushing its file buffers), GETs of the 50 keys")


def survives_kill(server: Server, rng: random.Random) -> None:
    values = {f"key{i}": f"value-{i}-".ljust(40, "x") for i in range(300)}
    what = "300 SETs, each sent after the reply to the one before"
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        for key, value in values.items():
            sock.sendall(command("SET", key, value))
            reply = read_replies(sock, 1, 5, what)[0]
            if reply != b"+OK\r\n":
                raise Failure(f"{what}: SET {key} got {reply!r}; expected b'+OK\\r\\n'")
        sock.sendall(command("SET", "inflight", "sent-just-before-the-kill"))
        server.stop(signal.SIGKILL)
    server.start()
    keys = [*values, "inflight"]
    what = "after kill -9 and a restart, GETs of the 300 keys"
    try:
        lines = redis_cli(server.port, stdin="".join(f"GET {k}\n" for k in keys)).split("\n")
    except Failure as exc:
        raise Failure(f"{what}: {exc}") from None
    for key, got in zip(keys, lines, strict=False):
        if key in values and got != values[key]:
            raise Failure(f"{what}: GET {key} printed {got!r}; expected {values[key]!r}: its SET had been "
                          "acknowledged with +OK before the kill (write and flush the record before replying)")
    inflight = lines[-2] if len(lines) == len(keys) + 1 else "(no answer)"
    if inflight not in ("", "sent-just-before-the-kill"):
        raise Failure(f"after kill -9 and a restart, GET inflight printed {inflight!r}: a SET cut short "
                      "by the kill must be all there or not at all")
    _cli(server, "SET", "after", "the-crash", want="OK", note=" after kill -9 and a restart")
    server.stop(signal.SIGKILL)
    server.start()
    _cli(server, "GET", "after", want="the-crash", note=" after a SET, a second kill -9 and a restart")


SCENARIOS: dict[str, Callable[[Server, random.Random], None]] = {
    "redis-cli PING": ping,
    "redis-cli SET, GET and DEL": set_get_del,
    "30 commands on one connection": one_connection,
    "200 pipelined commands": pipelined,
    "keys and values that are not UTF-8 text": lambda server, rng: check_binary_safe(server),
    "data survives a restart": survives_restart,
    "acknowledged writes survive kill -9": survives_kill,
}


def scenarios() -> list[str]:
    """The graded scenarios, in the order they run."""
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    """Start `python FILE --addr 127.0.0.1:PORT` in a fresh folder, run one scenario
    against it, and kill it; None if it passed, else the reason."""
    try:
        file = learner_file(target)
        with scratch("distlab-kvs-server-") as tmp, Server(file, tmp / "data") as server:
            SCENARIOS[name](server, random.Random(seed))
    except Failure as exc:
        return str(exc)
    except OSError as exc:
        return f"a connection to your server failed in {name!r}: {exc}"
    return None
