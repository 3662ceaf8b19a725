"""Loading a node's file as its own module instance, with simulated time and randomness.

Each simulated node gets its own globals, and its own copies of the modules it
imports from its own folder, so module-level state never leaks between nodes.
The standard modules that would make a run irreproducible or hang it (time,
random, threading, socket, os.urandom, print, input) are replaced, for that
node only, by versions bound to the simulator.

``hash()`` is salted per incarnation, as ``PYTHONHASHSEED`` salts it per process:
all nodes share one interpreter here, so without it two nodes that pick a key's
owner by ``hash(key)`` would agree, and a design that breaks on a real cluster
(or after a restart) would pass.
"""

from __future__ import annotations

import builtins
import datetime
import hashlib
import importlib.machinery
import importlib.util
import os
import random as _random
import socket as _socket
import sys
import threading as _threading
import time as _time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distlab.runtime.sim.loop import SimulationAbort

EPOCH = 1_700_000_000.0
"""What time.time() reads at simulated time zero: a fixed date, so runs replay."""

_real_import = builtins.__import__


_SALTED = (str, bytes, datetime.date, datetime.time)  # what PYTHONHASHSEED changes (datetime too)


def _salt(rng: _random.Random, node_id: str) -> bytes:
    """A salt fixed by the incarnation's random state (so by the run's seed) without
    drawing from it: drawing would shift every number the node's code draws."""
    return hashlib.blake2b(repr((node_id, rng.getstate())).encode(), digest_size=8).digest()


def _varies(obj: object) -> bool:
    if isinstance(obj, _SALTED):
        return True
    if isinstance(obj, (tuple, frozenset)):
        return any(_varies(item) for item in obj)
    return False


def salted_hash(salt: bytes) -> Callable[[object], int]:
    """``hash`` as a process with its own ``PYTHONHASHSEED`` computes it: another value for
    strings, bytes and dates (and tuples or frozensets holding them), the same for the
    rest (ints, floats, None, and objects hashed by identity or their own ``__hash__``)."""
    real = builtins.hash

    def hash(obj: object, /) -> int:  # noqa: A001  (stands in for the builtin)
        if _varies(obj):
            return real((salt, obj))
        return real(obj)

    return hash


class Sandbox:
    """The per-node view of the Python world for one incarnation of one node."""

    def __init__(
        self,
        path: Path,
        node_id: str,
        *,
        wall_clock: Callable[[], float],
        monotonic: Callable[[], float],
        rng: _random.Random,
        abort: Callable[[str], None],
        log: Callable[[str], None],
        argv: list[str] | None = None,
    ) -> None:
        self.path = path
        self.argv = [str(path), *(argv or [])]
        self.node_id = node_id
        self.folder = str(path.parent)
        self._wall = wall_clock
        self._mono = monotonic
        self._rng = rng
        self._abort = abort
        self._log = log
        self._local: dict[str, types.ModuleType] = {}
        self._local_tops: dict[str, bool] = {}
        self.builtins = dict(builtins.__dict__)
        self.builtins["__import__"] = self._import
        self.builtins["print"] = self._print
        self.builtins["input"] = self._input
        self.builtins["exit"] = self.builtins["quit"] = self._exit
        self.builtins["hash"] = salted_hash(_salt(rng, node_id))
        self.proxies = {
            "time": self._time_module(),
            "random": self._random_module(),
            "threading": self._threading_module(),
            "_thread": self._thread_module(),
            "socket": self._socket_module(),
            "os": self._os_module(),
            "sys": self._sys_module(),
        }

    # ----- breaking the rules ------------------------------------------------------------
    def forbid(self, what: str, instead: str) -> SimulationAbort:
        reason = f"node {self.node_id} {what}, which would block or escape the simulator; {instead}"
        self._abort(reason)
        return SimulationAbort(reason)

    # ----- loading -------------------------------------------------------------------------
    def load(self, code: types.CodeType) -> types.ModuleType:
        """Execute the node's (pre-compiled) file as `__main__` in a fresh module."""
        module = types.ModuleType("__main__")
        module.__file__ = str(self.path)
        module.__builtins__ = self.builtins  # type: ignore[attr-defined]
        exec(code, module.__dict__)
        return module

    def _is_local(self, top: str) -> bool:
        known = self._local_tops.get(top)
        if known is None:
            known = (
                os.path.exists(os.path.join(self.folder, top + ".py"))
                or os.path.exists(os.path.join(self.folder, top, "__init__.py"))
            )
            self._local_tops[top] = known
        return known

    def _load_local(self, fullname: str) -> types.ModuleType:
        module = self._local.get(fullname)
        if module is not None:
            return module
        parent_name, _, _ = fullname.rpartition(".")
        if parent_name:
            parent = self._load_local(parent_name)
            search = list(getattr(parent, "__path__", []))
        else:
            search = [self.folder]
        spec = importlib.machinery.PathFinder.find_spec(fullname, search)
        if spec is None or spec.loader is None:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        module = importlib.util.module_from_spec(spec)
        module.__builtins__ = self.builtins  # type: ignore[attr-defined]
        self._local[fullname] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del self._local[fullname]
            raise
        if parent_name:
            setattr(self._local[parent_name], fullname.rpartition(".")[2], module)
        return module

    def _import(
        self,
        name: str,
        globals: dict[str, Any] | None = None,
        locals: Any = None,
        fromlist: Any = (),
        level: int = 0,
    ) -> types.ModuleType:
        if level > 0:
            package = (globals or {}).get("__package__") or ""
            base = package.rsplit(".", level - 1)[0] if level > 1 else package
            if not base or not self._is_local(base.partition(".")[0]):
                return _real_import(name, globals, locals, fromlist, level)
            name = f"{base}.{name}" if name else base
            module = self._load_local(name)
            for item in fromlist or ():
                if not hasattr(module, item):
                    try:
                        self._load_local(f"{name}.{item}")
                    except ModuleNotFoundError:
                        pass
            return module
        top = name.partition(".")[0]
        proxy = self.proxies.get(name)
        if proxy is not None:
            return proxy
        if self._is_local(top):
            module = self._load_local(name)
            if fromlist:
                for item in fromlist:
                    if item != "*" and not hasattr(module, item):
                        try:
                            self._load_local(f"{name}.{item}")
                        except ModuleNotFoundError:
                            pass
                return module
            return self._local[top]
        if top in self.proxies and not fromlist:
            _real_import(name, globals, locals, fromlist, level)
            return self.proxies[top]
        return _real_import(name, globals, locals, fromlist, level)

    # ----- replaced builtins --------------------------------------------------------------
    def _print(self, *args: Any, sep: str | None = " ", end: str | None = "\n", file: Any = None, flush: bool = False) -> None:
        if file is None or file is sys.stdout or file is sys.stderr:
            text = (sep if sep is not None else " ").join(str(a) for a in args)
            self._log(text)
        else:
            builtins.print(*args, sep=sep, end=end, file=file, flush=flush)

    def _exit(self, code: Any = None) -> None:
        reason = f"node {self.node_id} exited (sys.exit({code!r})); a node must keep serving until the test ends"
        self._abort(reason)
        raise SimulationAbort(reason)

    def _input(self, prompt: Any = "") -> str:
        raise self.forbid("called input()", "messages arrive through handlers")

    # ----- replaced modules -------------------------------------------------------------------
    @staticmethod
    def _copy(real: types.ModuleType) -> types.ModuleType:
        proxy = types.ModuleType(real.__name__, real.__doc__)
        proxy.__dict__.update({k: v for k, v in real.__dict__.items() if k not in ("__loader__", "__spec__")})
        return proxy

    def _time_module(self) -> types.ModuleType:
        mod = self._copy(_time)
        wall, mono = self._wall, self._mono

        def sleep(seconds: float) -> None:
            raise self.forbid(f"called time.sleep({seconds!r})", "use `await asyncio.sleep(...)`")

        mod.time = lambda: EPOCH + wall()
        mod.time_ns = lambda: int((EPOCH + wall()) * 1e9)
        mod.monotonic = mod.perf_counter = mono
        mod.monotonic_ns = mod.perf_counter_ns = lambda: int(mono() * 1e9)
        mod.sleep = sleep
        return mod

    def _random_module(self) -> types.ModuleType:
        mod = self._copy(_random)
        inst = self._rng
        for name in dir(inst):
            if not name.startswith("_") and callable(getattr(inst, name)) and hasattr(_random, name):
                setattr(mod, name, getattr(inst, name))
        seed_source = inst

        class SystemRandom(_random.Random):
            """Deterministic stand-in: true entropy would make the run unreplayable."""

            def __init__(self, x: Any = None) -> None:
                super().__init__(seed_source.getrandbits(64))

        mod.SystemRandom = SystemRandom
        mod._inst = inst
        return mod

    def _threading_module(self) -> types.ModuleType:
        mod = self._copy(_threading)
        sandbox = self

        class Thread(_threading.Thread):
            def start(self) -> None:
                raise sandbox.forbid(
                    f"started a thread ({self.name})",
                    "use asyncio tasks (node.spawn or asyncio.create_task) instead",
                )

        class Timer(_threading.Timer):
            def start(self) -> None:
                raise sandbox.forbid("started a threading.Timer", "use node.every or asyncio.sleep")

        mod.Thread = Thread
        mod.Timer = Timer
        return mod

    def _thread_module(self) -> types.ModuleType:
        import _thread

        mod = self._copy(_thread)

        def start_new_thread(*args: Any, **kwargs: Any) -> int:
            raise self.forbid("started a thread (_thread.start_new_thread)", "use asyncio tasks")

        mod.start_new_thread = start_new_thread
        mod.start_new = start_new_thread
        return mod

    def _socket_module(self) -> types.ModuleType:
        mod = self._copy(_socket)
        sandbox = self

        class socket(_socket.socket):  # noqa: N801  (keeps the stdlib's name)
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                raise sandbox.forbid(
                    "opened a socket", "nodes talk only through node.send / node.rpc"
                )

        def create_connection(*args: Any, **kwargs: Any) -> Any:
            raise self.forbid("opened a network connection", "nodes talk only through node.send / node.rpc")

        mod.socket = socket
        mod.SocketType = socket
        mod.create_connection = create_connection
        mod.create_server = create_connection
        return mod

    def _sys_module(self) -> types.ModuleType:
        mod = self._copy(sys)
        mod.argv = list(self.argv)  # the node's own command line: --bin PATH ARGS...
        mod.exit = self._exit
        return mod

    def _os_module(self) -> types.ModuleType:
        mod = self._copy(os)
        rng = self._rng
        mod.urandom = lambda n: rng.randbytes(n)
        return mod
