"""Loading a node's file as its own module instance, with simulated time and randomness.

Each simulated node gets its own globals, and its own copies of the modules it
imports from its own folder, so module-level state never leaks between nodes.
The standard modules that would make a run irreproducible or hang it (time,
random, threading, socket, os.urandom, print, input) are replaced, for that
node only, by versions bound to the simulator.

``hash()`` is salted per incarnation, as ``PYTHONHASHSEED`` salts it per process:
all nodes share one interpreter here, so without it two nodes that pick a key's
owner by ``hash(key)`` would agree, and a design that breaks on a real cluster
(or after a restart) would pass. For the same reason each node has its own
``builtins``, ``sys.modules``, ``os.environ`` and process id, and reads the
simulated clock through ``datetime``, ``time.localtime`` and the rest; ``uuid``
and ``secrets`` draw from its seeded randomness, so a replay repeats them. What
cannot be made per node is refused with one line: opening a file by a relative
path or asking for the working directory (each process has its own, the
simulator one for all), and starting processes, thread pools or signal alarms.
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


def _salt(rng: _random.Random, node_id: str) -> bytes:
    """A salt fixed by the incarnation's random state (so by the run's seed) without
    drawing from it: drawing would shift every number the node's code draws."""
    return hashlib.blake2b(repr((node_id, rng.getstate())).encode(), digest_size=8).digest()


def _varies(obj: object) -> bool:
    if isinstance(obj, (str, bytes)):
        return True
    if isinstance(obj, (tuple, frozenset)):
        return any(_varies(item) for item in obj)
    return False


def salted_hash(salt: bytes) -> Callable[[object], int]:
    """``hash`` as a process with its own ``PYTHONHASHSEED`` computes it: another value for
    strings and bytes (and tuples or frozensets holding them), the real one for the rest
    (ints, floats, None, objects hashed by identity or their own ``__hash__``). Computed
    from the salt alone, not from this process's own seed, so a replay in another process
    hashes alike; equal objects (``("a", 1) == ("a", 1.0)``) still hash alike."""
    real = builtins.hash

    def digest(tag: bytes, data: bytes) -> int:
        value = int.from_bytes(hashlib.blake2b(tag + data, key=salt, digest_size=8).digest(),
                               "little", signed=True)
        return -2 if value == -1 else value  # CPython's hashes are never -1

    def words(values: Any) -> bytes:
        return b"".join((v & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little") for v in values)

    def hash(obj: object, /) -> int:  # noqa: A001  (stands in for the builtin)
        if isinstance(obj, str):
            return digest(b"s", obj.encode("utf-8", "surrogatepass"))
        if isinstance(obj, bytes):
            return digest(b"b", obj)
        if isinstance(obj, tuple) and _varies(obj):
            return digest(b"t", words(hash(item) for item in obj))
        if isinstance(obj, frozenset) and _varies(obj):
            return digest(b"f", words(sorted(hash(item) for item in obj)))
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
        self._salt = _salt(rng, node_id)
        # the node's own `builtins` module: `import builtins; builtins.x = 1` stays in this node
        own_builtins = types.ModuleType("builtins")
        own_builtins.__dict__.update(builtins.__dict__)
        self.builtins = own_builtins.__dict__
        self.builtins["__import__"] = self._import
        self.builtins["print"] = self._print
        self.builtins["input"] = self._input
        self.builtins["exit"] = self.builtins["quit"] = self._exit
        self.builtins["hash"] = salted_hash(self._salt)
        self.builtins["open"] = self._open
        self.proxies = {
            "time": self._time_module(),
            "random": self._random_module(),
            "threading": self._threading_module(),
            "_thread": self._thread_module(),
            "socket": self._socket_module(),
            "os": self._os_module(),
            "sys": self._sys_module(),
            "builtins": own_builtins,
        }
        # made on first import only: most nodes never import them
        self._lazy: dict[str, Callable[[], types.ModuleType]] = {
            "datetime": self._datetime_module,
            "uuid": self._uuid_module,
            "secrets": self._secrets_module,
            "io": self._io_module,
            "pathlib": self._pathlib_module,
            "subprocess": self._subprocess_module,
            "multiprocessing": self._multiprocessing_module,
            "signal": self._signal_module,
            "distlab": self._distlab_module,
            "concurrent": self._concurrent_module,
            "atexit": self._atexit_module,
        }

    # ----- breaking the rules ------------------------------------------------------------
    def forbid(self, what: str, instead: str, why: str = "which would block or escape the simulator") -> SimulationAbort:
        reason = f"node {self.node_id} {what}, {why}; {instead}"
        self._abort(reason)
        return SimulationAbort(reason)

    def _check_path(self, file: Any) -> None:
        """Refuse a relative path: as processes each node runs in its own (empty) working
        directory, while simulated nodes share the harness's, so they would read and
        overwrite one another's files (and the previous run's)."""
        if isinstance(file, int):
            return
        path = os.fspath(file)
        if not os.path.isabs(path):
            shown = path.decode(errors="replace") if isinstance(path, bytes) else path
            raise self.forbid(
                f"used the relative path {shown!r}",
                "keep durable state in node.storage (what a crash keeps is simulated), "
                "or build an absolute path, e.g. from __file__",
                why="but simulated nodes share one working directory where processes each have their own",
            )

    def _open(self, file: Any, *args: Any, **kwargs: Any) -> Any:
        self._check_path(file)
        if file in _ENTROPY:
            return _SeededStream(self._rng)
        return builtins.open(file, *args, **kwargs)

    # ----- loading -------------------------------------------------------------------------
    def load(self, code: types.CodeType) -> types.ModuleType:
        """Execute the node's (pre-compiled) file as `__main__` in a fresh module."""
        module = types.ModuleType("__main__")
        module.__file__ = str(self.path)
        module.__builtins__ = self.builtins  # type: ignore[attr-defined]
        self.proxies["sys"].modules["__main__"] = module
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
        if top in self._lazy and not self._is_local(top):
            _real_import(name, globals, locals, fromlist, level)
            self.proxies[top] = self._lazy.pop(top)()
            if not fromlist:
                return self.proxies[top]
            proxy = self.proxies.get(name)  # a proxied submodule (concurrent.futures)
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
        if file is None or file.__class__ is _LogWriter or file is sys.stdout or file is sys.stderr:
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
        # CPU time: the simulator has none of its own, and the real one would differ per replay
        mod.process_time = mod.thread_time = mono
        mod.process_time_ns = mod.thread_time_ns = mod.monotonic_ns
        mod.sleep = sleep

        def clock_gettime(clock: int) -> float:
            return EPOCH + wall() if clock == _time.CLOCK_REALTIME else mono()

        mod.clock_gettime = clock_gettime
        mod.clock_gettime_ns = lambda clock: int(clock_gettime(clock) * 1e9)

        # the calendar functions read the real clock when given no time: give them the node's
        def at_now(real: Callable[..., Any]) -> Callable[..., Any]:
            def read(secs: Any = None) -> Any:
                return real(EPOCH + wall() if secs is None else secs)

            return read

        mod.localtime, mod.gmtime, mod.ctime = at_now(_time.localtime), at_now(_time.gmtime), at_now(_time.ctime)

        def asctime(t: Any = None) -> str:
            return _time.asctime(_time.localtime(EPOCH + wall()) if t is None else t)

        def strftime(fmt: str, t: Any = None) -> str:
            return _time.strftime(fmt, _time.localtime(EPOCH + wall()) if t is None else t)

        mod.asctime, mod.strftime = asctime, strftime
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

        class Random(_random.Random):
            """``random.Random()`` with no seed (and ``.seed()``): seeded from the node's
            randomness instead of the OS's entropy, so a replay draws the same numbers."""

            def seed(self, a: Any = None, version: int = 2) -> None:
                super().seed(seed_source.getrandbits(64) if a is None else a, version)

        def seed(a: Any = None, version: int = 2) -> None:
            inst.seed(inst.getrandbits(64) if a is None else a, version)

        mod.Random, mod.seed = Random, seed
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
        mod.modules = dict(sys.modules)  # `sys.modules[...] = x` stays in this node; __main__ is its own
        mod.stdin = _NoStdin(self)
        # as a process the SDK points stdout at stderr, the node's log: so here both go to its log
        mod.stdout = mod.stderr = _LogWriter(self._log)
        return mod

    def _os_module(self) -> types.ModuleType:
        mod = self._copy(os)
        rng = self._rng
        mod.urandom = lambda n: rng.randbytes(n)
        mod.getrandom = lambda size, flags=0: rng.randbytes(size)
        # each process has its own id (new after a restart) and environment; one
        # interpreter has one of each, which nodes would share (ids alike, a variable
        # one node sets seen by all)
        pid = 1000 + int.from_bytes(self._salt[:4], "big") % 4_000_000
        mod.getpid = lambda: pid
        mod.getppid = lambda: 999  # the harness, the same parent for every node (as processes)
        env = dict(os.environ)
        mod.environ = env
        mod.getenv = lambda key, default=None: env.get(key, default)
        mod.putenv = env.__setitem__
        mod.unsetenv = lambda key: env.pop(key, None)

        def opener(real: Callable[..., Any], paths: int = 1) -> Callable[..., Any]:
            def open_checked(*args: Any, **kwargs: Any) -> Any:
                if kwargs.get("dir_fd") is None and kwargs.get("src_dir_fd") is None:
                    for path in args[:paths]:
                        self._check_path(path)
                return real(*args, **kwargs)

            return open_checked

        mod.open = opener(os.open)
        for name in ("remove", "unlink", "mkdir", "makedirs", "rmdir", "removedirs", "stat", "lstat",
                     "truncate", "mkfifo"):
            setattr(mod, name, opener(getattr(os, name)))
        for name in ("rename", "replace", "link"):  # two paths (a symlink's target may be relative)
            setattr(mod, name, opener(getattr(os, name), paths=2))
        mod.listdir = lambda path=".": opener(os.listdir)(path)
        mod.scandir = lambda path=".": opener(os.scandir)(path)
        mod.getcwd = mod.getcwdb = self._refuser(
            "asked for the working directory", "keep durable state in node.storage, or build absolute paths "
            "from __file__", why="which simulated nodes share where processes each have their own")
        mod.chdir = self._refuser("called os.chdir()", "every simulated node shares one working directory: "
                                  "build absolute paths, e.g. from __file__")
        for name in ("system", "popen", "fork", "forkpty", "posix_spawn", "posix_spawnp", "spawnv", "spawnve",
                     "spawnvp", "spawnvpe", "spawnl", "spawnle", "spawnlp", "spawnlpe", "execv", "execve",
                     "execvp", "execvpe", "execl", "execle", "execlp", "execlpe", "kill", "killpg"):
            if hasattr(os, name):
                setattr(mod, name, self._refuser(f"called os.{name}()", _PROCESSES))
        return mod

    def _refuser(self, what: str, instead: str, **why: str) -> Callable[..., Any]:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise self.forbid(what, instead, **why)

        return refuse

    def _distlab_module(self) -> types.ModuleType:
        """The SDK package with this node's own Node class: `Node.shared = {}` in one
        simulated node would otherwise be seen by every other, as no two processes could."""
        import distlab
        from distlab.node.core import Node as SharedNode

        mod = self._copy(distlab)
        del mod.__getattr__

        class Node(SharedNode):
            __slots__ = ()

        Node.__module__, Node.__doc__ = SharedNode.__module__, SharedNode.__doc__
        mod.Node = Node
        mod.__getattr__ = lambda name: getattr(distlab, name)  # the rest, and submodules imported later
        return mod

    def _datetime_module(self) -> types.ModuleType:
        """``datetime.now()``, ``utcnow()`` and ``date.today()`` on the node's simulated clock.
        The classes stand in for the real ones (isinstance agrees both ways) but make real
        instances, which every library (orjson, pickle) takes."""
        mod = self._copy(datetime)
        wall = self._wall
        real_dt, real_date = datetime.datetime, datetime.date

        class _Same(type):
            def __instancecheck__(cls, obj: object) -> bool:
                return isinstance(obj, cls.__bases__[0])

            def __subclasscheck__(cls, sub: type) -> bool:
                return issubclass(sub, cls.__bases__[0])

        class date(real_date, metaclass=_Same):  # noqa: N801
            def __new__(cls, *args: Any, **kwargs: Any) -> Any:
                return real_date(*args, **kwargs)

            @classmethod
            def today(cls) -> datetime.date:
                return real_date.fromtimestamp(EPOCH + wall())

            @classmethod
            def fromtimestamp(cls, t: float) -> datetime.date:
                return real_date.fromtimestamp(t)

        class datetime_(real_dt, metaclass=_Same):
            def __new__(cls, *args: Any, **kwargs: Any) -> Any:
                return real_dt(*args, **kwargs)

            @classmethod
            def now(cls, tz: datetime.tzinfo | None = None) -> datetime.datetime:
                return real_dt.fromtimestamp(EPOCH + wall(), tz)

            @classmethod
            def utcnow(cls) -> datetime.datetime:
                return real_dt.utcfromtimestamp(EPOCH + wall())

            @classmethod
            def today(cls) -> datetime.datetime:
                return real_dt.fromtimestamp(EPOCH + wall())

        for cls, name in ((date, "date"), (datetime_, "datetime")):
            cls.__name__ = cls.__qualname__ = name
            cls.__module__ = "datetime"
        # the alternative constructors, on the real class, so they make real instances
        for name in ("fromtimestamp", "utcfromtimestamp", "fromisoformat", "fromordinal", "combine",
                     "strptime", "fromisocalendar"):
            if name in real_dt.__dict__:
                setattr(datetime_, name, getattr(real_dt, name))
        for name in ("fromisoformat", "fromordinal", "fromisocalendar"):
            setattr(date, name, getattr(real_date, name))
        mod.date, mod.datetime = date, datetime_
        return mod

    def _uuid_module(self) -> types.ModuleType:
        """uuid1 and uuid4 from the node's seeded randomness and simulated clock: unique, and
        the same again in a replay."""
        import uuid

        mod = self._copy(uuid)
        rng, wall = self._rng, self._wall
        last = [0]
        # a random 48-bit node with the multicast bit set, as RFC 4122 allows instead of the
        # MAC address: this machine's MAC would make a replay elsewhere differ
        host = int.from_bytes(hashlib.blake2b(self._salt, digest_size=6).digest(), "big") | 0x010000000000

        def uuid4() -> uuid.UUID:
            return uuid.UUID(bytes=rng.randbytes(16), version=4)

        def uuid1(node: int | None = None, clock_seq: int | None = None) -> uuid.UUID:
            # 100 ns ticks since 1582-10-15, as uuid1 counts them
            stamp = int((EPOCH + wall()) * 1e7) + 0x01B21DD213814000
            stamp = max(stamp, last[0] + 1)
            last[0] = stamp
            seq = rng.getrandbits(14) if clock_seq is None else clock_seq
            return uuid.UUID(fields=(stamp & 0xFFFFFFFF, (stamp >> 32) & 0xFFFF, (stamp >> 48) & 0x0FFF,
                                     (seq >> 8) & 0x3F, seq & 0xFF, host if node is None else node),
                             version=1)

        mod.uuid1, mod.uuid4 = uuid1, uuid4
        return mod

    def _secrets_module(self) -> types.ModuleType:
        """secrets from the node's seeded randomness: a replay draws the same tokens."""
        import base64
        import secrets

        mod = self._copy(secrets)
        rand = self.proxies["random"].SystemRandom()
        mod.SystemRandom = self.proxies["random"].SystemRandom
        mod.choice, mod.randbits = rand.choice, rand.getrandbits
        mod.randbelow = lambda n: rand.randrange(n)

        def token_bytes(nbytes: int | None = None) -> bytes:
            return rand.randbytes(32 if nbytes is None else nbytes)

        mod.token_bytes = token_bytes
        mod.token_hex = lambda nbytes=None: token_bytes(nbytes).hex()
        mod.token_urlsafe = lambda nbytes=None: base64.urlsafe_b64encode(token_bytes(nbytes)).rstrip(b"=").decode()
        return mod

    def _io_module(self) -> types.ModuleType:
        import io

        mod = self._copy(io)
        mod.open = self._open
        return mod

    def _pathlib_module(self) -> types.ModuleType:
        import pathlib

        mod = self._copy(pathlib)
        sandbox = self

        class Path(type(pathlib.Path())):  # type: ignore[misc]
            """pathlib.Path whose open (and so read_text, write_bytes...) refuses a relative path."""

            __slots__ = ()

            def open(self, *args: Any, **kwargs: Any) -> Any:
                sandbox._check_path(self)
                return super().open(*args, **kwargs)

            @classmethod
            def cwd(cls) -> Any:
                return sandbox.proxies["os"].getcwd()

        Path.__name__ = Path.__qualname__ = type(pathlib.Path()).__name__
        mod.Path = Path
        setattr(mod, Path.__name__, Path)
        return mod

    def _subprocess_module(self) -> types.ModuleType:
        import subprocess

        mod = self._copy(subprocess)
        for name in ("Popen", "run", "call", "check_call", "check_output", "getoutput", "getstatusoutput"):
            setattr(mod, name, self._refuser(f"started a process (subprocess.{name})", _PROCESSES))
        return mod

    def _multiprocessing_module(self) -> types.ModuleType:
        import multiprocessing

        mod = self._copy(multiprocessing)
        sandbox = self

        class Process(multiprocessing.Process):
            def start(self) -> None:
                raise sandbox.forbid("started a process (multiprocessing)", _PROCESSES)

        mod.Process = Process
        mod.Pool = self._refuser("started a process pool (multiprocessing.Pool)", _PROCESSES)
        return mod

    def _concurrent_module(self) -> types.ModuleType:
        """concurrent.futures whose executors refuse to start, as threading.Thread does: their
        threads or processes would run outside the simulator's clock and order."""
        import concurrent
        import concurrent.futures as futures

        mod, fut = self._copy(concurrent), self._copy(futures)
        sandbox = self

        def refusing(real: type, what: str) -> type:
            class Executor(real):  # type: ignore[misc, valid-type]
                def __init__(self, *args: Any, **kwargs: Any) -> None:
                    raise sandbox.forbid(f"started a {what}", "use asyncio tasks (node.spawn or asyncio.create_task)")

            Executor.__name__ = Executor.__qualname__ = real.__name__
            return Executor

        fut.ThreadPoolExecutor = refusing(futures.ThreadPoolExecutor, "thread pool (ThreadPoolExecutor)")
        fut.ProcessPoolExecutor = refusing(futures.ProcessPoolExecutor, "process pool (ProcessPoolExecutor)")
        mod.futures = fut
        self.proxies["concurrent.futures"] = fut
        return mod

    def _atexit_module(self) -> types.ModuleType:
        """Exit handlers kept and never run: the harness stops a process with SIGTERM (then
        SIGKILL), which runs none, while in the simulator they would run in the harness."""
        import atexit

        mod = self._copy(atexit)
        mod.register = lambda func, *args, **kwargs: func
        mod.unregister = lambda func: None
        mod._run_exitfuncs = lambda: None
        mod._clear = lambda: None
        return mod

    def _signal_module(self) -> types.ModuleType:
        """Handlers kept per node and never called (the harness stops a simulated node without
        a signal, as it kills a process with SIGKILL); a real handler would replace the
        harness's own, and an alarm would go off in real time."""
        import signal

        mod = self._copy(signal)
        handlers: dict[int, Any] = {}

        def set_handler(signum: int, handler: Any) -> Any:
            old = handlers.get(signum, signal.getsignal(signum))
            handlers[signum] = handler
            return old

        mod.signal = set_handler
        mod.getsignal = lambda signum: handlers.get(signum, signal.getsignal(signum))
        for name in ("alarm", "setitimer", "pause", "pthread_kill", "raise_signal"):
            if hasattr(signal, name):
                setattr(mod, name, self._refuser(f"called signal.{name}()", "use node.every or asyncio.sleep for timers"))
        return mod


_ENTROPY = ("/dev/urandom", "/dev/random", b"/dev/urandom", b"/dev/random")


class _SeededStream:
    """What ``open('/dev/urandom', 'rb')`` gives a simulated node: its seeded randomness."""

    def __init__(self, rng: _random.Random) -> None:
        self._rng = rng

    def read(self, size: int = 4096) -> bytes:
        return self._rng.randbytes(size if size >= 0 else 4096)

    def close(self) -> None:
        pass

    def __enter__(self) -> _SeededStream:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class _LogWriter:
    """A simulated node's sys.stdout and sys.stderr: whole lines go to the node's log."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self._log = log
        self._partial = ""

    def write(self, text: str) -> int:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            self._log(line)
        return len(text)

    def flush(self) -> None:
        if self._partial:
            self._log(self._partial)
            self._partial = ""

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(sys.stderr, name)


class _NoStdin:
    """A simulated node's sys.stdin: reading it would block the whole simulator on the
    harness's own stdin (as a process, stdin carries the protocol, which the SDK reads)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox

    def _refuse(self, *args: Any) -> Any:
        raise self._sandbox.forbid("read sys.stdin", "messages arrive through handlers")

    read = readline = readlines = __next__ = _refuse

    def __iter__(self) -> _NoStdin:
        self._refuse()
        return self

    @property
    def buffer(self) -> _NoStdin:
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(sys.stdin, name)


_PROCESSES = "a simulated node is one module in the simulator's process; run it with --mode process to use processes"
