"""Helpers for module-task graders that grade a learner's *program* rather than a class:
run their file as a process with arguments, start their server on a free port of
127.0.0.1 and always kill it, drive it with a real `redis-cli`, or run a scenario in a
child process so a hung thread pool or a deadlock gives a one-line reason, not a hang.

A module task's target is an object from the learner's file (`--bin FILE:main`); the
file itself is found from that object, so no new grader kind is needed."""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PYTHON = sys.executable


class Failure(Exception):
    """What went wrong, as the sentence shown to the learner."""


def learner_file(target: object) -> Path:
    """The file that defines `target` (a function or class loaded from the learner's file)."""
    module = sys.modules.get(getattr(target, "__module__", "") or "")
    path = getattr(module, "__file__", None) or inspect.getsourcefile(target)  # type: ignore[arg-type]
    if not path:
        raise Failure(f"cannot tell which file defines {target!r}")
    return Path(path).resolve()


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def run_program(file: Path, args: list[str], cwd: Path, timeout: float = 10.0,
                stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`python FILE ARGS...` in `cwd`, as the learner would run it; Failure if it hangs."""
    shown = " ".join([file.name, *args])
    try:
        return subprocess.run([PYTHON, str(file), *args], cwd=cwd, input=stdin, capture_output=True,
                              text=True, timeout=timeout, check=False,
                              env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    except subprocess.TimeoutExpired:
        raise Failure(f"`python {shown}` did not finish within {timeout:g} s") from None


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """The learner's server program: `python FILE --addr 127.0.0.1:PORT` with the data
    folder as its working directory; its whole process group is killed by `stop`."""

    def __init__(self, file: Path, folder: Path, port: int | None = None) -> None:
        self.file, self.folder = file, folder
        self.fixed = port is not None
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = folder.parent / f"{folder.name}-server.log"

    def start(self, timeout: float = 10.0) -> Server:
        """Start it and wait until it accepts connections; Failure if it exits or never
        listens. Each start takes a fresh free port (unless one was fixed): a restarted
        server need not rebind a port its killed predecessor left in TIME_WAIT, and a port
        taken by someone else in the meantime costs a retry, not a failed grade."""
        for attempt in range(3):
            if not self.fixed:
                self.port = free_port()
            said = self._start(timeout)
            if said is None:
                return self
            if self.fixed or attempt == 2 or "in use" not in said:
                raise Failure(said)
        raise AssertionError("unreachable")

    def _start(self, timeout: float) -> str | None:
        self.folder.mkdir(parents=True, exist_ok=True)
        seen = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([PYTHON, str(self.file), "--addr", f"127.0.0.1:{self.port}"],
                                         cwd=self.folder, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                with open(self.log, "rb") as log:
                    log.seek(seen)
                    said = _last_line(log.read().decode(errors="replace"))
                return (f"your server exited with status {code} before listening on 127.0.0.1:{self.port}"
                        + (f": {said}" if said else ""))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return None
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                return (f"`python {self.file.name} --addr 127.0.0.1:{self.port}` did not listen on "
                        f"127.0.0.1:{self.port} within {timeout:g} s")
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the server's process group and wait for it (SIGKILL after 5 s)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def restart(self, sig: int = signal.SIGTERM) -> None:
        self.stop(sig)
        self.start()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def redis_cli(port: int, *args: str, stdin: str | None = None, timeout: float = 10.0) -> str:
    """What `redis-cli -p PORT ARGS...` prints (its non-terminal output: nil is an empty
    line, an integer its digits, an error "ERR ..."); Failure if it hangs or fails."""
    exe = shutil.which("redis-cli")
    if exe is None:
        raise Failure("redis-cli is not installed here (apt-get install redis-tools, or make system-deps)")
    shown = " ".join(["redis-cli", "-p", str(port), *args]) + (" < commands" if stdin is not None else "")
    try:
        res = subprocess.run([exe, "-p", str(port), *args], input=stdin, capture_output=True, text=True,
                             timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise Failure(f"`{shown}` got no answer within {timeout:g} s") from None
    if res.returncode != 0:
        said = _last_line(res.stderr + res.stdout)
        raise Failure(f"`{shown}` failed" + (f": {said}" if said else f" with status {res.returncode}"))
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith(("Error", "Could not connect"))]
    if errors:  # reading commands from stdin, redis-cli reconnects and carries on after an error
        raise Failure(f"`{shown}` said {errors[0]!r}" + (f" ({len(errors)} times)" if len(errors) > 1 else ""))
    return res.stdout


def command(*args: str | bytes) -> bytes:
    """One command as redis-cli sends it: a RESP array of bulk strings (str as UTF-8)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        raw = arg if isinstance(arg, bytes) else arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(parts)


def _reply_end(buf: bytes, pos: int) -> int | None:
    """Where the RESP reply starting at `pos` ends, or None if it is not all there."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        return None
    kind = buf[pos:pos + 1]
    if kind == b"$":
        size = int(buf[pos + 1:end])
        stop = end + 2 + size + 2 if size >= 0 else end + 2
        return stop if len(buf) >= stop else None
    if kind == b"*":
        count, pos = int(buf[pos + 1:end]), end + 2
        for _ in range(max(count, 0)):
            found = _reply_end(buf, pos)
            if found is None:
                return None
            pos = found
        return pos
    return end + 2


def read_replies(sock: socket.socket, count: int, timeout: float, what: str) -> list[bytes]:
    """`count` whole RESP replies from `sock` (each as its raw bytes); Failure naming `what`
    if they do not all come within `timeout` s, or if the server closes the connection."""
    buf, replies, pos = b"", [], 0
    deadline = time.monotonic() + timeout
    while len(replies) < count:
        while len(replies) < count and (end := _reply_end(buf, pos)) is not None:
            replies.append(buf[pos:end])
            pos = end
        if len(replies) == count:
            break
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure(f"{what}: {len(replies)} of {count} replies came within {timeout:g} s")
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError as exc:
            raise Failure(f"{what}: the connection failed after {len(replies)} of {count} replies ({exc})") from None
        if not data:
            raise Failure(f"{what}: the server closed the connection after {len(replies)} of {count} replies")
        buf += data
    return replies


NOT_TEXT = {b"raw": b"\xff\x00\xfe", b"key-\xc0\xfe": b"\x80\r\n\xe9t\xe9"}
"""Keys and values that are not UTF-8 text: bytes no UTF-8 sequence starts with, a NUL, a
CRLF, Latin-1 accents, as an image or a packed integer holds."""

BINARY_SAFE = "keys and values are any bytes, not only UTF-8 text: RESP is binary-safe"


def check_binary_safe(server: Server, timeout: float = 5.0) -> None:
    """SET then GET the NOT_TEXT pairs pipelined on one socket, then GET them again after a
    SIGTERM restart; Failure (saying "binary-safe") if a reply differs or never comes."""

    def round_trip(data: bytes, count: int, what: str) -> list[bytes]:
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
                sock.sendall(data)
                return read_replies(sock, count, timeout, what)
        except Failure as exc:
            raise Failure(f"{exc} ({BINARY_SAFE}; did decoding them as UTF-8 fail?)") from None
        except OSError as exc:
            raise Failure(f"{what}: the connection failed ({exc}; {BINARY_SAFE})") from None

    def gets(after: str) -> None:
        what = f"{after}GETs of keys whose values are not UTF-8 text"
        replies = round_trip(b"".join(command("GET", k) for k in NOT_TEXT), len(NOT_TEXT), what)
        for (key, value), got in zip(NOT_TEXT.items(), replies, strict=True):
            want = b"$%d\r\n%s\r\n" % (len(value), value)
            if got != want:
                raise Failure(f"{what}: GET {key!r} got {got!r}; expected {want!r} ({BINARY_SAFE}, "
                              "so store the bytes as they came)")

    what = "SETs of keys and values that are not UTF-8 text, e.g. SET b'raw' b'\\xff\\x00\\xfe'"
    replies = round_trip(b"".join(command("SET", k, v) for k, v in NOT_TEXT.items()), len(NOT_TEXT), what)
    for key, got in zip(NOT_TEXT, replies, strict=True):
        if got != b"+OK\r\n":
            raise Failure(f"{what}: SET {key!r} got {got!r}; expected b'+OK\\r\\n' ({BINARY_SAFE})")
    gets("")
    server.restart(signal.SIGTERM)
    gets("after a SIGTERM and a restart, ")


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A fresh temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp)


def run_isolated(grader_file: str, name: str, target: object, seed: int, timeout: float,
                 stuck: str) -> str | None:
    """Run `run_here(name, target, seed)` of the grader at `grader_file` in a child
    process: a learner's thread that never ends or a deadlock then costs `timeout`
    seconds and the reason "<scenario> did not finish ...: <stuck>", never a hang."""
    file = learner_file(target)
    attr = getattr(target, "__name__", "")
    cmd = [PYTHON, "-m", "distlab.tracks.procgrade", grader_file, str(file), attr, name, str(seed)]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                             start_new_session=True)
    except subprocess.TimeoutExpired:
        return f"{name!r} did not finish within {timeout:g} s: {stuck}"
    for line in reversed(res.stdout.splitlines()):
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                return json.loads(line)["reason"]  # type: ignore[no-any-return]
    said = _last_line(res.stderr)
    return f"the process running {name!r} died with status {res.returncode}" + (f": {said}" if said else "")


def _child(argv: list[str]) -> None:
    """The child side of `run_isolated`: load the grader and the learner's object, run one
    scenario, print {"reason": ...} and exit at once (threads left running are not waited for)."""
    import importlib.util

    from distlab.systems.raft.suite import load_factory

    grader_file, file, attr, name, seed = argv
    spec = importlib.util.spec_from_file_location("_distlab_isolated_grader", grader_file)
    assert spec is not None and spec.loader is not None
    grader: Any = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = grader
    spec.loader.exec_module(grader)
    try:
        target = load_factory(f"{file}:{attr}")
        reason = grader.run_here(name, target, int(seed))
    except Exception as exc:  # noqa: BLE001 - reported as the scenario's reason
        reason = f"{type(exc).__name__}: {exc}"
    sys.stdout.write("\n" + json.dumps({"reason": reason}) + "\n")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    _child(sys.argv[1:])
