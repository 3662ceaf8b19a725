"""The real-time event loop for process mode, with the harness API the runner expects.

The runner is written once for both runtimes; this loop gives real time the
same small surface as the simulator's VirtualLoop (time since the run began,
harness timers, abort with a reason).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any


class RealLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        super().__init__()
        self._t0 = time.monotonic()
        self.abort_reason: str | None = None
        self.exception_sink: Any = None
        self.set_exception_handler(_route_exception)

    def time(self) -> float:
        """Seconds since the run began (history and trace times are relative to it)."""
        return time.monotonic() - self._t0

    @property
    def now(self) -> float:
        """The same as time(): the harness seam's `now` (a plain attribute in the simulator)."""
        return time.monotonic() - self._t0

    def call_harness_at(self, when: float, callback: Callable[..., Any], *args: Any) -> asyncio.TimerHandle:
        return self.call_at(when, callback, *args)

    def rearm_harness(self, timer: Any, when: float, callback: Callable[[], Any]) -> asyncio.TimerHandle:
        return self.call_at(when, callback)

    def call_harness_soon(self, callback: Callable[..., Any], *args: Any) -> asyncio.Handle:
        return self.call_soon(callback, *args)

    def abort(self, reason: str) -> None:
        """End the run with this reason (the first one wins)."""
        if self.abort_reason is None:
            self.abort_reason = reason
        self.stop()

    def run_guarded(self, main: Any) -> Any:
        return self.run_until_complete(main)

    def shutdown(self) -> None:
        for task in asyncio.all_tasks(self):
            task.cancel()
        self.exception_sink = None
        self.close()


def _route_exception(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    sink = getattr(loop, "exception_sink", None)
    if sink is not None:
        sink(None, context)
    else:
        loop.default_exception_handler(context)
