"""A virtual-time asyncio event loop that knows which node owns each callback.

Time jumps to the next timer whenever nothing is ready, so a minute of
simulated time costs only the CPU its events need. Every callback runs in a
contextvars context; callbacks from a node carry that node's `Incarnation`
there, which lets the loop park a paused node's work and drop a crashed one's
without the node's code knowing.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import heapq
import inspect
import signal
import threading
from asyncio import base_events, events
from collections.abc import Callable
from typing import Any


class SimulationAbort(Exception):
    """The run cannot go on (a node broke the simulator's rules); the text says why."""


class NodeStalled(BaseException):
    """Raised inside node code that held the CPU too long, to get control back."""


class Incarnation:
    """One life of a node: from (re)start to crash. Work is tagged with it."""

    __slots__ = ("node_id", "number", "dead", "paused", "parked", "graveyard")

    def __init__(self, node_id: str, number: int) -> None:
        self.node_id = node_id
        self.number = number
        self.dead = False
        self.paused = False
        self.parked: list[events.Handle] = []
        self.graveyard: list[events.Handle] = []

    def __repr__(self) -> str:
        return f"<{self.node_id}#{self.number}{' dead' if self.dead else ''}>"


OWNER: contextvars.ContextVar[Incarnation | None] = contextvars.ContextVar(
    "distlab_owner", default=None
)

MAX_STEPS_WITHOUT_PROGRESS = 2_000_000
"""Loop steps at one simulated instant before a run is ended as a busy loop (the default)."""


WORLD = contextvars.Context()
"""Context for the harness's own callbacks: owned by no node, so never parked or dropped."""

class HarnessTimer:
    """A timer for the harness's own callbacks (message arrival, client ops).

    Lighter than asyncio's TimerHandle: no context switch (harness code is
    owned by no node) and no per-call allocation beyond this object. An
    exception in one is a bug in distlab and aborts the run.
    """

    __slots__ = ("_when", "_callback", "_args", "_cancelled", "_scheduled", "_loop")
    _context = WORLD

    def __init__(self, loop: VirtualLoop, when: float, callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self._loop = loop
        self._when = when
        self._callback = callback
        self._args = args
        self._cancelled = False
        self._scheduled = True

    def cancel(self) -> None:
        if not self._cancelled:
            self._cancelled = True
            if self._scheduled:
                self._loop._timer_cancelled_count += 1

    def _run(self) -> None:
        try:
            self._callback(*self._args)
        except (SystemExit, KeyboardInterrupt, NodeStalled):
            raise
        except BaseException as exc:
            self._loop.call_exception_handler(
                {"message": f"harness callback {getattr(self._callback, '__qualname__', self._callback)} failed", "exception": exc}
            )


class VirtualLoop(base_events.BaseEventLoop):
    """asyncio's loop with a virtual clock, owner-aware scheduling and stall detection."""

    def __init__(self, stall_seconds: float = 5.0, max_steps_without_progress: int | None = None) -> None:
        """`max_steps_without_progress` (default: the module's MAX_STEPS_WITHOUT_PROGRESS,
        read now so a test can lower it) bounds the steps at one instant: a test of the
        busy-loop error need not spin two million times."""
        super().__init__()
        self.now = 0.0
        """Simulated seconds since the run began, as time() returns; a plain attribute,
        so the harness's hot path reads it without a call."""
        self._heap: list[tuple[float, int, events.TimerHandle]] = []
        self._seq = 0
        self._eager = False
        self._clock_resolution = 1e-9
        self.abort_reason: str | None = None
        self.steps = 0
        self._same_time_steps = 0
        self._stall_seconds = stall_seconds
        self.max_steps_without_progress = (
            MAX_STEPS_WITHOUT_PROGRESS if max_steps_without_progress is None else max_steps_without_progress
        )
        self.exception_sink: Any = None
        self.set_exception_handler(_route_exception)

    # ----- time ---------------------------------------------------------------------
    def time(self) -> float:
        return self.now

    # ----- the parts of BaseEventLoop a selector loop would supply -------------------
    def _process_events(self, event_list: Any) -> None:
        pass

    def _write_to_self(self) -> None:
        pass

    def run_in_executor(self, executor: Any, func: Callable[..., Any], *args: Any) -> Any:
        self.abort(
            f"{_who()} called run_in_executor/to_thread ({getattr(func, '__name__', func)}): "
            "threads cannot run in the simulator; use asyncio instead"
        )
        raise SimulationAbort("threads are not allowed in the simulator")

    def abort(self, reason: str) -> None:
        """End the run with this reason (the first one wins)."""
        if self.abort_reason is None:
            self.abort_reason = reason
        self.stop()

    # ----- scheduling ------------------------------------------------------------------
    def call_at(self, when: float, callback: Callable[..., Any], *args: Any, context: Any = None) -> events.TimerHandle:
        # Timers live in a heap of (when, seq, handle) tuples: compared in C, and
        # FIFO among equal times, where asyncio's own heap is neither.
        timer = events.TimerHandle(when, callback, args, self, context)
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, timer))
        timer._scheduled = True
        return timer

    def call_soon(self, callback: Callable[..., Any], *args: Any, context: Any = None) -> events.Handle:
        if self._eager:
            # The first step of a task being created by create_eager_task: run it now.
            self._eager = False
            handle = events.Handle(callback, args, self, context)
            handle._run()
            return handle
        return super().call_soon(callback, *args, context=context)

    def create_eager_task(self, coro: Any) -> asyncio.Task[Any]:
        """Create a task and run it up to its first await at once (3.12's eager tasks).

        Handlers that finish without waiting then cost no extra loop step; the
        task is still a real Task, so current_task(), asyncio.timeout() and
        cancellation behave as usual.
        """
        if self._eager or asyncio.current_task(self) is not None:
            return self.create_task(coro)
        self._eager = True
        try:
            return self.create_task(coro)
        finally:
            self._eager = False

    def call_harness_at(self, when: float, callback: Callable[..., Any], *args: Any) -> HarnessTimer:
        """Schedule a harness callback (never parked or dropped with a node)."""
        timer = HarnessTimer(self, when, callback, args)
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, timer))
        return timer

    def rearm_harness(self, timer: HarnessTimer | None, when: float, callback: Callable[[], Any]) -> HarnessTimer:
        """Schedule `callback` at `when`, reusing `timer` (one that already ran) if given.

        A client worker fires once per operation; reusing its timer saves an
        allocation on the simulator's hottest path.
        """
        if timer is None:
            timer = HarnessTimer(self, when, callback, ())
        else:
            timer._when = when
            timer._scheduled = True
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, timer))
        return timer

    def call_harness_soon(self, callback: Callable[..., Any], *args: Any) -> HarnessTimer:
        """A harness callback for the next step, skipping the timer heap."""
        timer = HarnessTimer(self, self.now, callback, args)
        timer._scheduled = False
        self._ready.append(timer)
        return timer

    def _run_once(self) -> None:
        self.steps += 1
        heap = self._heap
        ready = self._ready
        if not ready:
            while heap and heap[0][2]._cancelled:
                heapq.heappop(heap)
                self._timer_cancelled_count -= 1
            if not heap:
                if not self._stopping:
                    self.abort("simulation deadlock: no node or client has anything left to do")
                return
            when = heap[0][0]
            if when > self.now:
                self.now = when
                self._same_time_steps = 0
        now = self.now
        while heap and heap[0][0] <= now:
            handle = heapq.heappop(heap)[2]
            handle._scheduled = False
            if handle._cancelled:
                self._timer_cancelled_count -= 1
                continue
            ready.append(handle)
        if self._timer_cancelled_count > 1000 and self._timer_cancelled_count * 2 > len(heap):
            self._heap = [entry for entry in heap if not entry[2]._cancelled]
            heapq.heapify(self._heap)
            self._timer_cancelled_count = 0
        self._same_time_steps += 1
        if self._same_time_steps > self.max_steps_without_progress:
            self.abort(
                f"simulated time stopped at {now:.3f} s: {_spinner(ready)} keeps scheduling work without "
                "letting time pass (a busy loop around asyncio.sleep(0)?)"
            )
            return
        for _ in range(len(ready)):
            handle = ready.popleft()
            if handle._cancelled:
                continue
            owner = handle._context.get(OWNER)
            if owner is not None:
                if owner.dead:
                    owner.graveyard.append(handle)  # kept so its task is never resumed or GC'd mid-run
                    continue
                if owner.paused:
                    owner.parked.append(handle)
                    continue
            handle._run()
        handle = None  # noqa: F841  (drop the reference, as asyncio does)

    def resume(self, inc: Incarnation) -> None:
        """Give a paused node its parked work back, in the order it was parked."""
        inc.paused = False
        parked, inc.parked = inc.parked, []
        self._ready.extend(parked)

    def kill(self, inc: Incarnation) -> None:
        inc.dead = True
        inc.graveyard.extend(inc.parked)
        inc.parked = []

    # ----- running with a wall-clock watchdog ------------------------------------------
    def run_guarded(self, main: Any) -> Any:
        """run_until_complete, but a node that hogs the CPU is interrupted, not waited on.

        The cyclic GC runs rarely meanwhile: a run allocates millions of
        short-lived objects that reference counting frees, and frequent
        collections would walk the whole (growing) history again and again.
        """
        thresholds = gc.get_threshold()
        gc.set_threshold(200_000, 50, 50)
        try:
            return self._run_guarded(main)
        finally:
            gc.set_threshold(*thresholds)

    def _run_guarded(self, main: Any) -> Any:
        if threading.current_thread() is not threading.main_thread():
            return self.run_until_complete(main)
        last = [-1, 0.0]

        def tick(signum: int, frame: Any) -> None:
            if self.steps != last[0]:
                last[0], last[1] = self.steps, 0.0
                return
            last[1] += 0.5
            if last[1] >= self._stall_seconds:
                self.abort(
                    f"{_who()} ran for {self._stall_seconds:g} s of wall time without yielding"
                    f"{_stuck_at(frame)} (an infinite loop, or blocking code?)"
                )
                raise NodeStalled(self.abort_reason)

        previous = signal.signal(signal.SIGALRM, tick)
        signal.setitimer(signal.ITIMER_REAL, 0.5, 0.5)
        try:
            return self.run_until_complete(main)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0, 0)
            signal.signal(signal.SIGALRM, previous)

    def shutdown(self) -> None:
        """Close without warnings for tasks that crashed nodes left suspended.

        Futures and tasks of a finished run are garbage-collected later, at any
        moment (even inside the compiler); their "never retrieved" reports must
        not run user-visible code then, so the exception handler is silenced.
        """
        for task in asyncio.all_tasks(self):
            task._log_destroy_pending = False  # type: ignore[attr-defined]
            coro = task.get_coro()
            if inspect.iscoroutine(coro) and inspect.getcoroutinestate(coro) == inspect.CORO_CREATED:
                # Never started (spawned just before the run ended or its node died): close
                # it, or its collection warns "coroutine ... was never awaited" to the learner.
                coro.close()
        self.set_exception_handler(_ignore_exception)
        self.exception_sink = None
        events._set_running_loop(None)
        self._ready.clear()
        self._heap.clear()
        self.close()


def _stuck_at(frame: Any) -> str:
    """Where the code that would not yield was when the watchdog fired: the innermost
    frame outside distlab's engine and the standard library (a task's reference and
    mutants count as the learner's), e.g. " at node.py:12 in echo"; "" if none."""
    import os
    import sysconfig

    engine = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    stdlib = sysconfig.get_paths()["stdlib"]
    while frame is not None:
        name = frame.f_code.co_filename
        ours = name.startswith(engine) and os.sep + "tracks" + os.sep not in name
        if not ours and not name.startswith(stdlib) and not name.startswith("<"):
            return f" at {os.path.basename(name)}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back
    return ""


def _who() -> str:
    owner = OWNER.get()
    return f"node {owner.node_id}" if owner is not None else "the harness"


def _spinner(ready: Any) -> str:
    """Who owns the work that keeps time from passing: the node with the most ready
    callbacks (the abort runs in the harness's context, so OWNER names nobody)."""
    counts: dict[str, int] = {}
    for handle in ready:
        owner = handle._context.get(OWNER)
        if owner is not None:
            counts[owner.node_id] = counts.get(owner.node_id, 0) + 1
    if not counts:
        return "the harness"
    return "node " + max(sorted(counts), key=counts.__getitem__)


def _ignore_exception(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    return None


def _route_exception(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    sink = getattr(loop, "exception_sink", None)
    if sink is not None:
        sink(OWNER.get(), context)
    else:
        loop.default_exception_handler(context)
