"""`Node`: the object a node author programs against, in every runtime."""

from __future__ import annotations

import asyncio
import inspect
import os
import random
import sysconfig
import traceback
from collections.abc import Awaitable, Callable
from types import CoroutineType
from typing import Any, TypeVar

import orjson

from distlab.node.helpers import Dedup, retry
from distlab.node.host import ADOPT, Host
from distlab.node.storage import Storage
from distlab.protocol import (
    CRASH,
    MALFORMED_REQUEST,
    NOT_SUPPORTED,
    TIMEOUT,
    Message,
    ProtocolError,
    RPCError,
)

Handler = Callable[[Message], Any]
T = TypeVar("T")

DEFAULT_RPC_TIMEOUT = 1.0
PERIODIC_TASK = "distlab-periodic"
SDK_TAG = "[distlab-sdk] "
"""Starts the one-line JSON record the SDK writes to a node's log for each handler
exception, unanswered request and unknown message type: both harnesses read these
lines (the simulator from the log call, process mode from stderr), so a node's own
errors reach the summary and results.json in every runtime."""
MAX_TEXT = 200

_SDK_FILES = (os.path.dirname(os.path.abspath(__file__)) + os.sep,
              os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "protocol.py"))
_LIBRARY_DIRS = tuple(sorted({os.path.join(p, "") for k in ("stdlib", "platstdlib", "purelib", "platlib")
                              if (p := sysconfig.get_paths().get(k))}))


class NodeNotReady(RuntimeError):
    """A node method that needs a runtime (send, now, storage) was used before one was attached."""


class Node:
    """A protocol node: register handlers, then `run()`.

    Each incoming request runs in its own asyncio task, so a handler may await
    RPCs to other nodes without blocking the rest. Returning a dict from a
    handler sends it as the reply; raising `RPCError` replies with that error;
    any other exception replies with error 13 (crash), is logged, and the node
    keeps serving.
    """

    def __init__(self) -> None:
        self.id: str | None = None
        self.node_ids: list[str] = []
        self._handlers: dict[str, tuple[Handler, Dedup | None, bool]] = {}
        self.inflight = 0  # requests whose handler has not finished
        self.run_called = False  # the simulator refuses a file that never calls run()
        self._start_task: Callable[[Any], Any] | None = None
        self._periodic: list[tuple[float, Callable[[], Any]]] = []
        self._pending: dict[int, asyncio.Future[Message]] = {}
        self._next_msg_id = 0
        self._host: Host | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._started_periodic = False
        # Requests whose handler returned None without replying: (src, msg_id) -> type.
        # A reply sent later (node.reply) removes them; the harness counts the rest.
        self._unreplied: dict[tuple[str, Any], str] = {}
        self._replied_early: set[tuple[str, Any]] = set()  # replied while its handler still ran
        self._replies_later: set[str] = set()  # types seen answered after their handler returned
        self._errors_logged: set[tuple[str, str, str, str]] = set()  # tracebacks already in the log
        adopt = ADOPT.get()
        if adopt is not None:
            adopt(self)

    # ----- registration -------------------------------------------------------------
    def on(self, msg_type: str, *, dedup: bool = False) -> Callable[[Handler], Handler]:
        """Register the handler for one message type (sync or async).

        With `dedup=True`, a request repeated with the same (src, msg_id) (a
        duplicated message) is answered with the first reply instead of running
        the handler again.
        """

        def register(fn: Handler) -> Handler:
            is_async = inspect.iscoroutinefunction(fn)
            self._handlers[msg_type] = (fn, Dedup() if dedup else None, is_async or dedup)
            return fn

        return register

    def every(self, interval: float, fn: Callable[[], Any]) -> None:
        """Run `fn` (sync or async) every `interval` seconds once the node is initialised."""
        if interval <= 0:
            raise ValueError("every() needs a positive interval")
        self._periodic.append((interval, fn))
        if self._started_periodic:
            self.spawn(self._periodic_loop(interval, fn)).set_name(PERIODIC_TASK)

    # ----- runtime-provided facilities ----------------------------------------------
    @property
    def host(self) -> Host:
        if self._host is None:
            raise NodeNotReady("this node is not running yet: call node.run()")
        return self._host

    def attach(self, host: Host) -> None:
        """Called by a runtime; node authors never need it."""
        self._host = host

    @property
    def random(self) -> random.Random:
        """Seeded by the simulator, so every choice replays with the run."""
        return self.host.random

    @property
    def storage(self) -> Storage:
        return self.host.storage

    def now(self) -> float:
        """This node's clock in seconds: virtual (and possibly skewed) in the simulator."""
        return self.host.now()

    def log(self, *parts: Any) -> None:
        self.host.log(" ".join(str(p) for p in parts))

    def spawn(self, coro: Awaitable[T]) -> asyncio.Task[T]:
        """Start a background task owned by this node (kept alive, errors logged)."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            coro = task.get_coro() if hasattr(task, "get_coro") else None
            name = getattr(coro, "__qualname__", None) or type(task).__name__
            self._raised("task", name, exc, f"background task {name} failed")  # type: ignore[arg-type]

    # ----- sending --------------------------------------------------------------------
    def send(self, dest: str, body: dict[str, Any]) -> None:
        """Fire and forget."""
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            raise ProtocolError(f"message body to {dest} needs a string 'type': {body!r:.100}")
        if "in_reply_to" in body:
            self._replying(dest, body["in_reply_to"])
        self.host.send(dest, body)

    def _replying(self, dest: str, msg_id: Any) -> None:
        """A reply is going out: a request noted as unanswered is answered after all."""
        key = (dest, msg_id)
        msg_type = self._unreplied.pop(key, None)
        if msg_type is None:
            self._replied_early.add(key)  # its handler is still running (or it is answered twice)
            if len(self._replied_early) > 10_000:
                self._replied_early.clear()  # replies to requests this node never handled
        elif msg_type not in self._replies_later:
            self._replies_later.add(msg_type)
            self._sdk_event("replied-later", msg_type, src=dest, msg_id=msg_id)

    def reply(self, request: Message, body: dict[str, Any]) -> None:
        """Answer a request later than its handler returns (e.g. after a quorum)."""
        out = dict(body)
        msg_id = request.body.get("msg_id")
        if msg_id is not None:
            out["in_reply_to"] = msg_id
        self.send(request.src, out)

    def _answer(self, request: Message, body: dict[str, Any]) -> None:
        """The SDK's own replies (init_ok, error 10): not the handlers', so not tracked."""
        msg_id = request.body.get("msg_id")
        if msg_id is not None:
            self.host.send(request.src, {**body, "in_reply_to": msg_id})

    def _new_msg_id(self) -> int:
        self._next_msg_id += 1
        return self._next_msg_id

    async def rpc(
        self, dest: str, body: dict[str, Any], timeout: float | None = DEFAULT_RPC_TIMEOUT
    ) -> Message:
        """Send a request and wait for its reply.

        Raises RPCError with the peer's code for an error reply, and code 0
        (timeout, indefinite: the request may still take effect) when no reply
        comes within `timeout` seconds (None waits forever).
        """
        msg_id = self._new_msg_id()
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Message] = loop.create_future()
        self._pending[msg_id] = fut
        timer = None
        if timeout is not None:
            timer = loop.call_later(timeout, _expire, fut, dest, timeout)
        try:
            self.send(dest, {**body, "msg_id": msg_id})
            reply = await fut
        finally:
            self._pending.pop(msg_id, None)
            if timer is not None:
                timer.cancel()
        if reply.body.get("type") == "error":
            raise RPCError.from_body(reply.body)
        return reply

    async def retry(self, fn: Callable[[], Awaitable[T]], **kwargs: Any) -> T:
        """`distlab.retry` with this node's seeded random for the jitter."""
        kwargs.setdefault("rng", self.random)
        return await retry(fn, **kwargs)

    # ----- receiving ------------------------------------------------------------------
    def receive(self, msg: Message) -> None:
        """Called by the runtime for each incoming message, on the node's event loop."""
        body = msg.body
        reply_to = body.get("in_reply_to")
        if reply_to is not None:
            fut = self._pending.get(reply_to)
            if fut is not None:
                if not fut.done():
                    fut.set_result(msg)
                return
            if body["type"] not in self._handlers:
                return  # a late reply to an RPC that already timed out
        mtype = body["type"]
        if mtype == "init":
            self._init(msg)
            return
        entry = self._handlers.get(mtype)
        if entry is None:
            if body.get("msg_id") is None:  # nobody to answer: logged, no reply
                self._sdk_event("unknown-type", mtype, f"dropped message of unknown type {mtype!r} from {msg.src}",
                                src=msg.src)
            else:
                self._sdk_event("unknown-type", mtype, f"no handler for {mtype!r} from {msg.src}: answered error 10",
                                src=msg.src, msg_id=body["msg_id"])
                self._answer(msg, RPCError(NOT_SUPPORTED, f"unknown message type {mtype!r}").to_body())
            return
        fn, dedup, needs_task = entry
        if not needs_task:
            try:
                result = fn(msg)
            except Exception as exc:
                result = exc
            if type(result) is dict or result is None or not inspect.isawaitable(result):
                self._finish(msg, result)
                return
            # A plain function that returned a coroutine (an async handler under a
            # sync decorator): await it, and treat this handler as async from now on.
            self._handlers[mtype] = (fn, dedup, True)
            awaitable = result
            fn = lambda _msg: awaitable  # noqa: E731
        # No done-callback here (it would cost a loop step per request): _handle
        # catches everything itself, and in-flight work is counted instead.
        self.inflight += 1
        start = self._start_task
        if start is None:
            loop = asyncio.get_running_loop()
            start = self._start_task = getattr(loop, "create_eager_task", loop.create_task)
        start(self._handle(fn, dedup, msg))

    async def _handle(self, fn: Handler, dedup: Dedup | None, msg: Message) -> None:
        async def call() -> Any:
            result = fn(msg)
            if inspect.isawaitable(result):
                result = await result
            return result

        try:
            if dedup is not None and msg.msg_id is not None:
                result = await dedup.run((msg.src, msg.msg_id), call)
            else:
                result = fn(msg)
                if type(result) is CoroutineType or inspect.isawaitable(result):
                    result = await result
        except Exception as exc:
            if _closing(exc):
                # The run is over and this handler is being closed where it waited; what
                # its clean-up raised (e.g. a lock waking a waiter on a closed loop) is no
                # answer to send. Finish closing quietly, as close() expects.
                raise GeneratorExit from None
            result = exc
        finally:
            self.inflight -= 1
        self._finish(msg, result)

    def _finish(self, msg: Message, result: Any) -> None:
        if type(result) is dict:
            body: dict[str, Any] = result
        elif result is None:
            msg_id = msg.body.get("msg_id")
            if msg_id is not None:
                self._returned_none(msg, msg_id)
            return
        elif isinstance(result, RPCError):
            body = result.to_body()
        elif isinstance(result, Exception):
            mtype = msg.body["type"]
            self._raised("handler", mtype, result, f"handler for {mtype!r} from {msg.src} raised",
                         src=msg.src, msg_id=msg.body.get("msg_id"))
            body = RPCError(CRASH, f"{type(result).__name__}: {result}").to_body()
        elif isinstance(result, dict):
            body = result
        else:
            what = f"returned {type(result).__name__}, not a dict"
            self._sdk_event("bad-reply", msg.body["type"], f"handler for {msg.body['type']!r} {what}",
                            exception=what, src=msg.src, msg_id=msg.body.get("msg_id"))
            body = RPCError(CRASH, f"handler {what}").to_body()
        msg_id = msg.body.get("msg_id")
        if msg_id is None:
            return
        out = dict(body)
        out["in_reply_to"] = msg_id
        try:
            if not isinstance(out.get("type"), str):
                raise ProtocolError(f"message body to {msg.src} needs a string 'type': {body!r:.100}")
            self._host.send(msg.src, out)  # type: ignore[union-attr]  (a message came: attached)
        except ProtocolError as exc:
            self._sdk_event("bad-reply", msg.body["type"], f"reply to {msg.src} not sent: {exc}",
                            exception="reply not sent", text=str(exc)[:MAX_TEXT], src=msg.src, msg_id=msg_id)
            # The handler ran (and may have changed state): indefinite, as for a crash.
            self._answer(msg, RPCError(CRASH, f"handler's reply could not be sent: {exc}").to_body())

    def _init(self, msg: Message) -> None:
        # The id is set before any later message is looked at, so replies carry it.
        node_id = msg.body.get("node_id")
        node_ids = msg.body.get("node_ids")
        if not isinstance(node_id, str) or not isinstance(node_ids, list):
            self._answer(msg, RPCError(MALFORMED_REQUEST, "init needs node_id and node_ids").to_body())
            return
        self.id = node_id
        self.node_ids = [str(n) for n in node_ids]
        if "init" in self._handlers:
            self.spawn(self._init_hook(msg))
        else:
            self._init_done(msg)

    async def _init_hook(self, msg: Message) -> None:
        try:
            result = self._handlers["init"][0](msg)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            self._finish(msg, exc)
            return
        self._init_done(msg)

    def _init_done(self, msg: Message) -> None:
        self._answer(msg, {"type": "init_ok"})
        if not self._started_periodic:
            self._started_periodic = True
            for interval, fn in self._periodic:
                self.spawn(self._periodic_loop(interval, fn)).set_name(PERIODIC_TASK)

    async def _periodic_loop(self, interval: float, fn: Callable[[], Any]) -> None:
        name = getattr(fn, "__name__", repr(fn))
        while True:
            await asyncio.sleep(interval)
            try:
                result = fn()
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                self._raised("periodic", name, exc, f"periodic {name} raised")

    # ----- what went wrong, for the harness -------------------------------------------
    def _sdk_event(self, event: str, name: str, detail: str = "", **fields: Any) -> None:
        """One SDK_TAG line (JSON) in the log, then any human-readable detail lines."""
        record = {"event": event, "type": name, **{k: v for k, v in fields.items() if v is not None}}
        line = SDK_TAG + orjson.dumps(record, default=str).decode()
        self.log(line + "\n" + detail if detail else line)

    def _raised(self, event: str, name: str, exc: BaseException, what: str, **fields: Any) -> None:
        """An exception in node code: tagged line always, the traceback once per place."""
        where, code = where_raised(exc)
        exc_name = type(exc).__name__
        key = (event, name, exc_name, where)
        detail = f"{what}: {exc_name}: {exc}"
        if key not in self._errors_logged:  # the traceback once per place: the log stays readable
            self._errors_logged.add(key)
            detail += "\n" + "".join(traceback.format_exception(exc)).rstrip()
        self._sdk_event(event, name, detail, exception=exc_name, where=where, code=code,
                        text=str(exc)[:MAX_TEXT], **fields)

    def _returned_none(self, msg: Message, msg_id: Any) -> None:
        key = (msg.src, msg_id)
        if key in self._replied_early:
            self._replied_early.discard(key)
            return
        mtype = msg.body["type"]
        self._unreplied[key] = mtype
        if mtype not in self._replies_later:  # a type seen answered later defers on purpose
            self._sdk_event("no-reply", mtype, src=msg.src, msg_id=msg_id)

    # ----- entry point ----------------------------------------------------------------
    def run(self) -> None:
        """Serve the stdin/stdout protocol until stdin closes.

        Inside the simulator this returns at once: the simulator drives the node.
        """
        self.run_called = True
        if self._host is not None or ADOPT.get() is not None:
            return
        from distlab.node.stdio import serve

        serve(self)


def where_raised(exc: BaseException) -> tuple[str, str]:
    """`file:line` and source text of the innermost frame in the node's own code (not
    the SDK's, the standard library's or an installed package's): where to look first."""
    frames = traceback.extract_tb(exc.__traceback__)
    chosen = frames[-1] if frames else None
    for frame in reversed(frames):
        name = frame.filename
        if not (name.startswith(_SDK_FILES[0]) or name == _SDK_FILES[1] or name.startswith("<")
                or name.startswith(_LIBRARY_DIRS)):
            chosen = frame
            break
    if chosen is None:
        return "", ""
    return f"{os.path.basename(chosen.filename)}:{chosen.lineno}", (chosen.line or "").strip()[:MAX_TEXT]


def _closing(exc: BaseException) -> bool:
    """Did `exc` happen while a GeneratorExit (the coroutine being closed) unwound?"""
    seen = 0
    cause: BaseException | None = exc.__context__
    while cause is not None and seen < 20:
        if isinstance(cause, GeneratorExit):
            return True
        cause, seen = cause.__context__, seen + 1
    return False


def _expire(fut: asyncio.Future[Message], dest: str, timeout: float) -> None:
    if not fut.done():
        fut.set_exception(RPCError(TIMEOUT, f"no reply from {dest} within {timeout:g} s"))
