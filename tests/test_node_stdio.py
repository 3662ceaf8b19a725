"""A distlab Node as a real process speaking JSON lines on stdin/stdout.

Each test starts `python <node file>` with the venv's interpreter, writes protocol
lines to its stdin and reads its stdout with a deadline, so nothing can hang.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from distlab.protocol import MAX_LINE_BYTES, decode

NODE = "n0"
PATIENCE = 10.0
"""Seconds to wait for a line or an exit: only bounds a failure, so a slow machine never trips it."""

NODE_SOURCE = """
import asyncio
import os
import sys

from distlab import Node, RPCError

node = Node()
COUNT = 0


@node.on("echo")
def echo(msg):
    return {"type": "echo_ok", "echo": msg.body["echo"]}


@node.on("boom")
def boom(msg):
    raise ValueError("kaboom " + str(msg.body["n"]))


@node.on("aboom")
async def aboom(msg):
    await asyncio.sleep(0)
    raise KeyError("async-kaboom")


@node.on("refuse")
def refuse(msg):
    raise RPCError(22, "nope")


@node.on("printer")
def printer(msg):
    print("hello from print")
    sys.stdout.write("hello from sys.stdout\\n")
    return {"type": "printer_ok"}


@node.on("bad_return")
def bad_return(msg):
    return [1, 2]


@node.on("abad_return")
async def abad_return(msg):
    return "a string"


@node.on("silent")
def silent(msg):
    return None


@node.on("ask")
async def ask(msg):
    try:
        reply = await node.rpc("n1", {"type": "get", "key": msg.body["key"]},
                               timeout=msg.body.get("timeout", 2.0))
    except RPCError as exc:
        return {"type": "ask_failed", "code": exc.code, "text": exc.text}
    return {"type": "ask_ok", "value": reply.body["value"], "from": reply.src}


@node.on("count", dedup=True)
async def count(msg):
    global COUNT
    COUNT += 1
    seen = COUNT
    await asyncio.sleep(msg.body.get("delay", 0))
    return {"type": "count_ok", "count": seen}


def logged(fn):
    def wrapper(msg):
        print("handling", msg.body["type"])
        return fn(msg)
    return wrapper


@node.on("wrapped")
@logged
async def wrapped(msg):
    await asyncio.sleep(0)
    return {"type": "wrapped_ok"}


@node.on("no_type")
def no_type(msg):
    node.storage["touched"] = True  # the handler did change state
    return {"value": 1}


@node.on("unserialisable")
def unserialisable(msg):
    return {"type": "unserialisable_ok", "value": {1, 2}}


@node.on("write")
def write(msg):
    node.storage[msg.body["key"]] = msg.body["value"]
    if msg.body["sync"]:
        node.storage.sync()
    return {"type": "write_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": node.storage.get(msg.body["key"]),
            "cwd_file": os.path.exists(node.storage.path)}
"""

PERIODIC_SOURCE = """
TICKS = 0


def tick():
    global TICKS
    TICKS += 1
    if TICKS == 2:
        raise RuntimeError("tick two failed")
    node.send("c9", {"type": "tick", "n": TICKS})


node.every(0.03, tick)
"""


class NodeProc:
    """A running node process with deadline-bounded reads of stdout and stderr."""

    def __init__(self, script: Path, cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
        )
        self.stdout_lines: list[bytes] = []
        self._out: queue.Queue[bytes | None] = queue.Queue()
        self._err_lines: list[str] = []
        self._err_cond = threading.Condition()
        self._next_msg_id = 100
        self._pumps = [
            threading.Thread(target=self._pump_out, daemon=True),
            threading.Thread(target=self._pump_err, daemon=True),
        ]
        for pump in self._pumps:
            pump.start()

    def _pump_out(self) -> None:
        assert self.proc.stdout is not None
        for line in iter(self.proc.stdout.readline, b""):
            self.stdout_lines.append(line)
            self._out.put(line)
        self._out.put(None)

    def _pump_err(self) -> None:
        assert self.proc.stderr is not None
        for line in iter(self.proc.stderr.readline, b""):
            with self._err_cond:
                self._err_lines.append(line.decode("utf-8", "replace"))
                self._err_cond.notify_all()

    @property
    def stderr(self) -> str:
        with self._err_cond:
            return "".join(self._err_lines)

    # ----- writing -------------------------------------------------------------------
    def write_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, body: dict[str, Any], src: str = "c1", dest: str = NODE) -> None:
        self.write_raw(orjson.dumps({"src": src, "dest": dest, "body": body}) + b"\n")

    def request(self, body: dict[str, Any], src: str = "c1") -> int:
        self._next_msg_id += 1
        self.send({**body, "msg_id": self._next_msg_id}, src=src)
        return self._next_msg_id

    # ----- reading -------------------------------------------------------------------
    def recv(self, timeout: float = PATIENCE) -> dict[str, Any]:
        try:
            line = self._out.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"no stdout line within {timeout} s; stderr:\n{self.stderr}"
            ) from None
        if line is None:
            self._out.put(None)
            raise AssertionError(f"node closed stdout; stderr:\n{self.stderr}")
        decode(line)  # every stdout line must be a protocol message
        return orjson.loads(line)

    def expect_silence(self, seconds: float) -> None:
        try:
            line = self._out.get(timeout=seconds)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected stdout line: {line!r}")

    def call(self, body: dict[str, Any], src: str = "c1") -> dict[str, Any]:
        msg_id = self.request(body, src=src)
        msg = self.recv()
        assert msg["src"] == NODE
        assert msg["dest"] == src
        assert msg["body"]["in_reply_to"] == msg_id
        return msg["body"]

    def init(self) -> None:
        self.send({"type": "init", "msg_id": 1, "node_id": NODE, "node_ids": [NODE, "n1"]}, "c0")
        assert self.recv() == {
            "src": NODE,
            "dest": "c0",
            "body": {"type": "init_ok", "in_reply_to": 1},
        }

    def wait_stderr(self, text: str, timeout: float = PATIENCE) -> None:
        deadline = time.monotonic() + timeout
        with self._err_cond:
            while text not in "".join(self._err_lines):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{text!r} not in stderr:\n{''.join(self._err_lines)}")
                self._err_cond.wait(left)

    # ----- stopping ------------------------------------------------------------------
    def close(self, timeout: float = PATIENCE) -> int:
        """Close stdin (end of input); the node must exit by itself."""
        assert self.proc.stdin is not None
        if not self.proc.stdin.closed:
            self.proc.stdin.close()
        code = self.proc.wait(timeout=timeout)
        for pump in self._pumps:  # read everything the node wrote before it exited
            pump.join(timeout=timeout)
        return code

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=PATIENCE)
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass

    def check_stdout_clean(self) -> None:
        for line in self.stdout_lines:
            decode(line)


Spawn = Callable[..., "NodeProc"]


@pytest.fixture
def node_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["DISTLAB_STORAGE_DIR"] = str(tmp_path / "data")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def write_node(tmp_path: Path, extra: str = "") -> Path:
    script = tmp_path / "node.py"
    script.write_text(textwrap.dedent(NODE_SOURCE) + textwrap.dedent(extra) + "\nnode.run()\n")
    return script


@pytest.fixture
def spawn(tmp_path: Path, node_env: dict[str, str]) -> Iterator[Spawn]:
    procs: list[NodeProc] = []

    def start(extra: str = "", init: bool = True) -> NodeProc:
        proc = NodeProc(write_node(tmp_path, extra), tmp_path, node_env)
        procs.append(proc)
        if init:
            proc.init()
        return proc

    yield start
    for p in procs:
        if p.proc.poll() is None:
            p.kill()
        for stream in (p.proc.stdout, p.proc.stderr):
            if stream is not None:
                stream.close()


# ----- handshake, echo, errors ---------------------------------------------------------


def test_init_then_echo(spawn: Spawn) -> None:
    node = spawn()
    assert node.call({"type": "echo", "echo": "hello"}) == {
        "type": "echo_ok",
        "echo": "hello",
        "in_reply_to": 101,
    }
    assert node.call({"type": "echo", "echo": {"nested": [1, None]}}, src="c7") == {
        "type": "echo_ok",
        "echo": {"nested": [1, None]},
        "in_reply_to": 102,
    }
    assert node.close() == 0
    node.check_stdout_clean()


def test_init_ignores_harness_id_and_unknown_top_level_keys(spawn: Spawn) -> None:
    node = spawn(init=False)
    init = {"type": "init", "msg_id": 1, "node_id": NODE, "node_ids": [NODE]}
    node.write_raw(
        orjson.dumps({"id": 17, "src": "c0", "dest": NODE, "body": init, "extra": "x"}) + b"\n"
    )
    assert node.recv() == {"src": NODE, "dest": "c0", "body": {"type": "init_ok", "in_reply_to": 1}}


def test_init_without_node_id_is_malformed(spawn: Spawn) -> None:
    node = spawn(init=False)
    node.send({"type": "init", "msg_id": 1, "node_ids": ["n0"]}, src="c0")
    body = node.recv()["body"]
    assert body["type"] == "error"
    assert body["code"] == 12
    assert body["in_reply_to"] == 1
    node.init()  # a correct init afterwards still works
    assert node.call({"type": "echo", "echo": 1})["echo"] == 1


def test_unknown_type_is_not_supported(spawn: Spawn) -> None:
    node = spawn()
    assert node.call({"type": "frobnicate"}) == {
        "type": "error",
        "code": 10,
        "text": "unknown message type 'frobnicate'",
        "in_reply_to": 101,
    }
    # Without msg_id there is nobody to answer: logged, no reply.
    node.send({"type": "frobnicate"})
    node.wait_stderr("dropped message of unknown type 'frobnicate' from c1")
    assert node.call({"type": "echo", "echo": 2})["echo"] == 2


def test_handler_exception_is_crash_and_node_keeps_serving(spawn: Spawn) -> None:
    node = spawn()
    assert node.call({"type": "boom", "n": 42}) == {
        "type": "error",
        "code": 13,
        "text": "ValueError: kaboom 42",
        "in_reply_to": 101,
    }
    node.wait_stderr("ValueError: kaboom 42")
    assert "Traceback" in node.stderr
    assert node.call({"type": "echo", "echo": "still here"})["echo"] == "still here"
    assert node.call({"type": "aboom"}) == {
        "type": "error",
        "code": 13,
        "text": "KeyError: 'async-kaboom'",
        "in_reply_to": 103,
    }
    assert node.call({"type": "echo", "echo": "and here"})["echo"] == "and here"


def test_raised_rpc_error_is_sent_as_is(spawn: Spawn) -> None:
    node = spawn()
    assert node.call({"type": "refuse"}) == {
        "type": "error",
        "code": 22,
        "text": "nope",
        "in_reply_to": 101,
    }


@pytest.mark.parametrize(("mtype", "kind"), [("bad_return", "list"), ("abad_return", "str")])
def test_non_dict_return_is_crash(spawn: Spawn, mtype: str, kind: str) -> None:
    node = spawn()
    assert node.call({"type": mtype}) == {
        "type": "error",
        "code": 13,
        "text": f"handler returned {kind}, not a dict",
        "in_reply_to": 101,
    }
    assert node.call({"type": "echo", "echo": 3})["echo"] == 3


def test_none_return_sends_nothing(spawn: Spawn) -> None:
    node = spawn()
    node.request({"type": "silent"})
    assert node.call({"type": "echo", "echo": 4}) == {
        "type": "echo_ok",
        "echo": 4,
        "in_reply_to": 102,
    }


def test_async_handler_behind_sync_decorator_is_awaited(spawn: Spawn) -> None:
    node = spawn()
    assert node.call({"type": "wrapped"}) == {"type": "wrapped_ok", "in_reply_to": 101}


@pytest.mark.parametrize("mtype", ["no_type", "unserialisable"])
def test_unsendable_reply_is_indefinite_crash(spawn: Spawn, mtype: str) -> None:
    node = spawn()
    body = node.call({"type": mtype})
    assert (body["type"], body["code"]) == ("error", 13)


def test_unsendable_reply_is_an_error_reply(spawn: Spawn) -> None:
    # Whatever the code, the client gets an error (not silence) and the node goes on.
    node = spawn()
    for mtype, in_reply_to in (("no_type", 101), ("unserialisable", 102)):
        body = node.call({"type": mtype})
        assert body["type"] == "error"
        assert body["in_reply_to"] == in_reply_to
    node.wait_stderr("reply to c1 not sent: message is not JSON-serialisable")
    assert node.call({"type": "echo", "echo": 5})["echo"] == 5
    node.check_stdout_clean()


# ----- bad input and stdout hygiene ----------------------------------------------------


def test_malformed_stdin_lines_are_logged_and_skipped(spawn: Spawn) -> None:
    node = spawn()
    node.write_raw(b"this is not json\n")
    node.wait_stderr("ignored bad input: not JSON")
    assert "this is not json" in node.stderr
    node.write_raw(b'{"src": "c1", "dest": "n0", "body": {"type": "echo", "msg_id": "7"}}\n')
    node.wait_stderr("body field 'msg_id' is '7', not an integer")
    node.write_raw(b"[1, 2]\n\n   \n")
    node.wait_stderr("message is a JSON array, not an object")
    assert node.call({"type": "echo", "echo": "ok"}) == {
        "type": "echo_ok",
        "echo": "ok",
        "in_reply_to": 101,
    }
    assert node.close() == 0
    node.check_stdout_clean()


def test_over_long_line_is_dropped_whole(spawn: Spawn) -> None:
    node = spawn()
    hidden = orjson.dumps(
        {"src": "c1", "dest": NODE, "body": {"type": "echo", "msg_id": 77, "echo": "tail"}}
    )
    # One line longer than the limit whose tail, read alone, would be a valid request.
    node.write_raw(b"A" * (MAX_LINE_BYTES + 2) + hidden + b"\n")
    node.wait_stderr(f"input line longer than {MAX_LINE_BYTES} bytes ignored")
    assert node.call({"type": "echo", "echo": "after"}) == {
        "type": "echo_ok",
        "echo": "after",
        "in_reply_to": 101,
    }
    node.expect_silence(0.05)


def test_print_goes_to_stderr_and_stdout_is_only_protocol(spawn: Spawn) -> None:
    node = spawn()
    assert node.call({"type": "printer"}) == {"type": "printer_ok", "in_reply_to": 101}
    node.wait_stderr("hello from print\n")
    node.wait_stderr("hello from sys.stdout\n")
    node.call({"type": "boom", "n": 1})  # a traceback is logged too
    assert node.close() == 0
    assert len(node.stdout_lines) == 3  # init_ok, printer_ok, error
    node.check_stdout_clean()
    assert all(b"hello" not in line for line in node.stdout_lines)


def test_exits_when_stdin_closes(spawn: Spawn) -> None:
    node = spawn()
    assert node.close() == 0  # exits by itself, code 0 (close() only bounds the wait)


# ----- RPC -----------------------------------------------------------------------------


def test_rpc_reply_from_peer(spawn: Spawn) -> None:
    node = spawn()
    ask_id = node.request({"type": "ask", "key": "x"})
    out = node.recv()
    assert out["src"] == NODE and out["dest"] == "n1"
    assert out["body"]["type"] == "get"
    assert out["body"]["key"] == "x"
    rpc_id = out["body"]["msg_id"]
    assert isinstance(rpc_id, int)
    # While the handler waits, the node keeps serving other requests.
    assert node.call({"type": "echo", "echo": "meanwhile"})["echo"] == "meanwhile"
    node.send({"type": "get_ok", "value": 42, "in_reply_to": rpc_id}, src="n1")
    assert node.recv() == {
        "src": NODE,
        "dest": "c1",
        "body": {"type": "ask_ok", "value": 42, "from": "n1", "in_reply_to": ask_id},
    }


def test_rpc_error_reply_raises_rpc_error(spawn: Spawn) -> None:
    node = spawn()
    ask_id = node.request({"type": "ask", "key": "missing"})
    rpc_id = node.recv()["body"]["msg_id"]
    node.send({"type": "error", "code": 20, "text": "no key", "in_reply_to": rpc_id}, src="n1")
    assert node.recv()["body"] == {
        "type": "ask_failed",
        "code": 20,
        "text": "no key",
        "in_reply_to": ask_id,
    }


def test_rpc_timeout_is_code_0_and_late_reply_is_ignored(spawn: Spawn) -> None:
    node = spawn()
    ask_id = node.request({"type": "ask", "key": "x", "timeout": 0.1})
    rpc_id = node.recv()["body"]["msg_id"]
    body = node.recv()["body"]
    # The text names the call's own 0.1 s, not the handler's 2 s default: the
    # timeout given is the one that fired (no stopwatch needed).
    assert body == {
        "type": "ask_failed",
        "code": 0,
        "text": "no reply from n1 within 0.1 s",
        "in_reply_to": ask_id,
    }
    node.send({"type": "get_ok", "value": 1, "in_reply_to": rpc_id}, src="n1")
    assert node.call({"type": "echo", "echo": "fine"})["echo"] == "fine"
    node.expect_silence(0.05)


def test_concurrent_rpcs_get_their_own_replies(spawn: Spawn) -> None:
    node = spawn()
    a = node.request({"type": "ask", "key": "a"})
    b = node.request({"type": "ask", "key": "b"})
    sent = {m["body"]["key"]: m["body"]["msg_id"] for m in (node.recv(), node.recv())}
    assert sent["a"] != sent["b"]
    # Answer in the opposite order.
    node.send({"type": "get_ok", "value": "B", "in_reply_to": sent["b"]}, src="n1")
    node.send({"type": "get_ok", "value": "A", "in_reply_to": sent["a"]}, src="n1")
    replies = {m["body"]["in_reply_to"]: m["body"]["value"] for m in (node.recv(), node.recv())}
    assert replies == {a: "A", b: "B"}


# ----- periodic tasks ------------------------------------------------------------------


def test_every_runs_periodically_after_init(spawn: Spawn) -> None:
    node = spawn(PERIODIC_SOURCE, init=False)
    node.expect_silence(0.15)  # not before init
    node.init()
    ticks = [node.recv() for _ in range(3)]
    assert [t["body"] for t in ticks] == [
        {"type": "tick", "n": 1},
        {"type": "tick", "n": 3},  # tick 2 raised: logged, the loop keeps going
        {"type": "tick", "n": 4},
    ]
    assert all(t["src"] == NODE and t["dest"] == "c9" for t in ticks)
    node.wait_stderr("periodic tick raised: RuntimeError: tick two failed")
    assert node.close() == 0


# ----- dedup ---------------------------------------------------------------------------


def test_dedup_runs_handler_once_and_replies_twice(spawn: Spawn) -> None:
    node = spawn()
    node.send({"type": "count", "msg_id": 500})
    first = node.recv()
    node.send({"type": "count", "msg_id": 500})
    second = node.recv()
    assert (
        first
        == second
        == {
            "src": NODE,
            "dest": "c1",
            "body": {"type": "count_ok", "count": 1, "in_reply_to": 500},
        }
    )
    # Same msg_id from another client is a different request.
    node.send({"type": "count", "msg_id": 500}, src="c2")
    assert node.recv()["body"] == {"type": "count_ok", "count": 2, "in_reply_to": 500}
    node.send({"type": "count", "msg_id": 501})
    assert node.recv()["body"] == {"type": "count_ok", "count": 3, "in_reply_to": 501}


def test_dedup_concurrent_duplicate(spawn: Spawn) -> None:
    node = spawn()
    line = orjson.dumps(
        {"src": "c1", "dest": NODE, "body": {"type": "count", "msg_id": 600, "delay": 0.1}}
    )
    node.write_raw(line + b"\n" + line + b"\n")  # the copy arrives while the first runs
    replies = [node.recv(), node.recv()]
    assert [r["body"] for r in replies] == [
        {"type": "count_ok", "count": 1, "in_reply_to": 600}
    ] * 2
    node.send({"type": "count", "msg_id": 601})
    assert node.recv()["body"]["count"] == 2


# ----- durable storage -----------------------------------------------------------------


def test_synced_write_survives_sigkill_unsynced_is_lost(spawn: Spawn, tmp_path: Path) -> None:
    node = spawn()
    assert node.call({"type": "write", "key": "durable", "value": {"v": [1, 2]}, "sync": True}) == {
        "type": "write_ok",
        "in_reply_to": 101,
    }
    assert (
        node.call({"type": "write", "key": "volatile", "value": 7, "sync": False})["type"]
        == "write_ok"
    )
    # Reads see unsynced writes at once.
    assert node.call({"type": "read", "key": "volatile"})["value"] == 7
    assert node.call({"type": "read", "key": "durable"})["value"] == {"v": [1, 2]}
    node.kill()
    assert node.proc.returncode == -signal.SIGKILL
    assert (tmp_path / "data" / f"{NODE}.jsonl").exists()

    again = spawn()
    assert again.call({"type": "read", "key": "durable"}) == {
        "type": "read_ok",
        "value": {"v": [1, 2]},
        "cwd_file": True,
        "in_reply_to": 101,
    }
    assert again.call({"type": "read", "key": "volatile"})["value"] is None
    # The restarted node can keep writing to the same log.
    again.call({"type": "write", "key": "volatile", "value": 8, "sync": True})
    again.kill()
    third = spawn()
    assert third.call({"type": "read", "key": "volatile"})["value"] == 8
    assert third.call({"type": "read", "key": "durable"})["value"] == {"v": [1, 2]}


def test_unsynced_write_lost_even_on_clean_exit(spawn: Spawn) -> None:
    node = spawn()
    node.call({"type": "write", "key": "k", "value": 1, "sync": False})
    assert node.close() == 0
    again = spawn()
    assert again.call({"type": "read", "key": "k"})["value"] is None
