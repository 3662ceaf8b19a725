"""Fail points: named places in the code where a test, an operator or the environment can
inject a failure at run time, with fail-rs's semantics (TiKV's fail point library).

Why: the crash that matters in a storage engine happens in a window a few instructions
wide (after the write, before the fsync; half-way through a compaction). A fail point puts
a name on that window so a test can stop, fail or crash the program exactly there, every
time, instead of hoping a kill -9 lands in it.

In code::

    from distlab import fail

    fail.fail_point("kvs_before_fsync")               # may panic, sleep, pause, print...
    if (r := fail.fail_return("kvs_before_fsync")) is not None:
        raise OSError(errno.EIO, r.arg or "injected")  # the ``return(arg)`` form

Configuration is a chain of actions ``action[->action...]``; an action is
``[p%][cnt*]task[(arg)]``: ``p%`` the chance it fires (default 100), ``cnt*`` the most times
it may fire (default unlimited); a ``->`` inside an argument's parentheses is the argument's
(``print(a->b)``). Each evaluation takes the first action in the chain that
fires (still has a count, wins its draw) and does its task:

==============  ==========================================================================
off             nothing (with a count, lets the first calls through: ``2*off->panic``)
return(arg)     the caller's early return; ``arg`` (a string, optional) goes to the caller
sleep(ms)       sleep ``ms`` milliseconds
panic(msg)      raise :class:`FailPointPanic` (a BaseException: ``except Exception`` does not
                swallow it), or call the handler set with :func:`set_panic_handler`
print(msg)      log ``msg`` (default ``failpoint NAME executed.``) at INFO on ``distlab.fail``
pause           block until the point is configured again, removed or torn down
yield           give up the CPU (``time.sleep(0)``)
delay(ms)       busy-wait ``ms`` milliseconds (holds the GIL: a stall, not a nap)
==============  ==========================================================================

Set points with :func:`cfg` / :func:`remove` / :func:`cfg_callback`, scoped with
:class:`FailScenario` (``with FailScenario(): ...`` clears every point on entry, applies
``FAILPOINTS``, and clears everything again on exit, waking paused threads), one point at a
time with :func:`guard`, or from the environment: ``FAILPOINTS="name=actions;name2=actions"``
(:func:`setup_from_env`). Probabilities are drawn from one module RNG: :func:`seed` makes a
run repeatable (the simulator seeds it from the run's seed). Thread-safe throughout; with no
point configured a fail point costs one dict lookup.

Node scopes. The simulator runs every node of a cluster in one process, so one registry
serves them all: a point configured as ``n2/raft::before_apply`` fires only in node n2's
code, a bare ``raft::before_apply`` in every node's (the scoped entry wins where both are
set). The runtime tells this module whose code is running with :func:`set_scope` and turns
a ``panic`` into a crash of that node alone with :func:`set_panic_handler` (and a
``print`` into a line of that node's log with :func:`set_print_handler`);
:func:`parse_run_spec` checks a ``distlab test --fail NODE/NAME=ACTIONS`` against
:data:`POINTS` (the points node code in distlab evaluates) and the run's nodes, and in the
simulator refuses the tasks that would stall every node at once (sleep, delay, pause,
yield).

Real processes. Each node process gets its own points through ``FAILPOINTS`` (scope
dropped; the node's scoped entry wins over a bare one, as in the simulator), read at every
start. So that a count means the same as in the simulator (``1*panic``: once per run, not
once per process start), the process reports on stderr, as an SDK record (see
:func:`set_step_handler`), every counted step it consumes and every panic, and the harness
(:class:`RunCounts`) hands a restarted process the chain that continues where the last
incarnation stopped: ``5*off->1*panic`` after three evaluations restarts as
``2*off->1*panic``, and once the panic fired as ``off``. Probabilities (``p%``) are drawn
per process from the OS: a restarted process draws afresh (a counted ``p%`` step still
keeps its count across restarts). The process also says which points it set up and the
first time it evaluates each (:func:`set_reach_handler`), so the harness names the points
no node reached, as the simulator does from :func:`reached`.
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ENV_VAR",
    "FailPointError",
    "FailPointPanic",
    "POINTS",
    "RECORD_EVENT",
    "SIM_TASKS",
    "RunCounts",
    "FailScenario",
    "Returned",
    "cfg",
    "cfg_callback",
    "fail_point",
    "fail_return",
    "guard",
    "list_points",
    "node_points",
    "parse_actions",
    "parse_env",
    "parse_run_spec",
    "reached",
    "remove",
    "seed",
    "set_panic_handler",
    "set_print_handler",
    "set_reach_handler",
    "set_scope",
    "set_step_handler",
    "setup_from_env",
    "split_chain",
    "split_points",
    "teardown",
]

ENV_VAR = "FAILPOINTS"

POINTS: dict[str, str] = {
    "raft::before_persist": "a Raft node is about to write a batch of hard state (term, vote), "
    "log entries or a snapshot and sync it: none of the batch is on disk, none of its messages sent",
    "raft::after_append": "new log entries are on disk (synced); the messages that depend on "
    "them (a follower's append reply, a leader's appends) are not sent yet",
    "raft::before_apply": "an entry is committed and about to be applied to the state machine "
    "(evaluated once per entry; the applied index is not on disk, so a restart applies it again)",
    "kvraft::after_apply": "kvraft applied a write or cas to its map (sessions updated); the "
    "client waiting on it has not been answered",
    "percolator::prewrite": "a Percolator client's prewrites all succeeded (every key locked, "
    "values staged); no commit timestamp taken, nothing committed",
    "percolator::commit_primary": "the client holds its commit timestamp and is about to send "
    "the primary's commit: the last moment at which the transaction is not committed",
    "percolator::commit_secondary": "the primary's commit was acknowledged (the transaction is "
    "committed); the secondaries still hold their locks",
}
"""The fail points node code in distlab evaluates, by name, with the window each one marks
(Raft's in distlab/systems/raft/host.py, which hosts the Raft of kvraft, the shard controller,
shardkv and Percolator's groups; kvraft's in kvraft/node.py; the Percolator client's in
percolator/client.py). kvs's own are ``distlab.systems.kvs.store.FAIL_POINTS``."""

SIM_TASKS = ("off", "panic", "print")
"""Tasks a fail point may run in the simulator. sleep, delay, pause and yield would stop the
one process every simulated node shares (simulated time cannot pass inside a callback), and
``return`` has no meaning at a point that only marks a window."""

log = logging.getLogger("distlab.fail")


class FailPointError(ValueError):
    """A configuration that does not parse; the message is one line naming what is wrong."""


class FailPointPanic(BaseException):  # noqa: N818 - named for what it models: a Rust panic
    """A ``panic`` task fired. A BaseException so the code under test cannot catch it by
    accident with ``except Exception``: like a panic, it unwinds to the test or kills
    the thread."""


@dataclass(frozen=True)
class Returned:
    """A ``return`` task fired; ``arg`` is its argument (None for a bare ``return``)."""

    arg: str | None


@dataclass
class _Action:
    task: str
    arg: str | None = None  # message, return value, or milliseconds as text
    ms: int = 0
    freq: float = 1.0
    count: int | None = None  # remaining firings; None = unlimited
    callback: Callable[[], None] | None = None


_INT = re.compile(r"[0-9]+")
_FLOAT = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")


def _parse_action(text: str) -> _Action:
    """One ``[p%][cnt*]task[(arg)]``; the argument is split off first so it may hold % or *."""
    rest = text.strip()
    arg: str | None = None
    head, paren, tail = rest.partition("(")
    if paren:
        if not tail.endswith(")"):
            raise FailPointError(f"parentheses do not match in {text.strip()!r}")
        rest, arg = head, tail[:-1]
    freq = 1.0
    pct, sep, after = rest.partition("%")
    if sep:
        if not _FLOAT.fullmatch(pct.strip()):
            raise FailPointError(f"bad probability {pct!r} in {text.strip()!r} (want e.g. 20%)")
        freq, rest = float(pct) / 100.0, after
    count: int | None = None
    cnt, sep, after = rest.partition("*")
    if sep:
        if not _INT.fullmatch(cnt.strip()):
            raise FailPointError(f"bad count {cnt!r} in {text.strip()!r} (want e.g. 3*)")
        count, rest = int(cnt), after
    task = rest.strip()
    action = _Action(task=task, arg=arg, freq=freq, count=count)
    if task in ("sleep", "delay"):
        if arg is None or not _INT.fullmatch(arg.strip()):
            raise FailPointError(f"{task} needs milliseconds, as {task}(100), in {text.strip()!r}")
        action.ms = int(arg)
    elif task in ("pause", "yield", "off") and arg is not None:
        raise FailPointError(f"{task} takes no argument, in {text.strip()!r}")
    elif task not in ("return", "panic", "print", "pause", "yield", "off"):
        raise FailPointError(
            f"unknown task {task!r} in {text.strip()!r}; tasks are "
            "off, return, sleep, panic, print, pause, yield, delay"
        )
    return action


def _split_outside_parens(text: str, sep: str) -> list[str]:
    """``text`` split at each ``sep`` outside parentheses, so an argument may hold it. An
    unmatched ``(`` keeps the rest in one part, which then fails to parse with a message
    naming it."""
    parts: list[str] = []
    depth = start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i + len(sep)
            i += len(sep) - 1
        i += 1
    parts.append(text[start:])
    return parts


def split_chain(actions: str) -> list[str]:
    """The actions of ``action[->action...]``, split at each ``->`` outside parentheses, so
    an argument may hold one (``print(a->b)``)."""
    return _split_outside_parens(actions, "->")


def split_points(value: str) -> list[str]:
    """The ``NAME=ACTIONS`` parts of ``FAILPOINTS`` or ``--fail``, split at each ``;`` outside
    parentheses, so an argument may hold one (``print(a;b)``; fail-rs splits at every ``;``)."""
    return _split_outside_parens(value, ";")


def parse_actions(actions: str) -> list[_Action]:
    """Parse ``action[->action...]``; raise FailPointError on the first bad action."""
    if not actions.strip():
        raise FailPointError("empty action list (use 'off', or remove the fail point)")
    return [_parse_action(part) for part in split_chain(actions)]


class _FailPoint:
    """One configured point: its actions, their text, and what ``pause`` waits on."""

    def __init__(self, key: str = "") -> None:
        self.key = key  # the name it is configured under (reported to the step handler)
        self.cond = threading.Condition(threading.Lock())
        self.actions: list[_Action] = []
        self.text = ""
        self.version = 0  # bumped by every reconfiguration: wakes paused threads
        self.reached = 0  # evaluations since configured, fired or not (see reached())
        self.announced = False  # the reach handler was told of its first evaluation

    def set(self, text: str, actions: list[_Action]) -> None:
        with self.cond:
            self.actions = actions
            self.text = text
            self.version += 1
            self.cond.notify_all()

    def _pick(self) -> tuple[_Action | None, int]:
        """The first action that fires now (its count taken), and the config version."""
        with self.cond:
            self.reached += 1
            reach = _reach_handler
            if not self.announced and reach is not None:
                self.announced = True
                reach(self.key)
            for index, action in enumerate(self.actions):
                if action.count is not None and action.count <= 0:
                    continue
                if action.freq < 1.0 and not _draw(action.freq):
                    continue
                if action.count is not None:
                    action.count -= 1
                handler = _step_handler
                if handler is not None and (action.count is not None or action.task == "panic"):
                    # under the lock: the reports of one point reach the log in order
                    handler(self.key, index, action.task, action.count is not None)
                return action, self.version
            return None, self.version

    def eval(self, name: str) -> Returned | None:
        action, version = self._pick()
        if action is None:
            return None
        task = action.task
        if task == "off":
            return None
        if task == "return":
            return Returned(action.arg)
        if task == "sleep":
            time.sleep(action.ms / 1000)
        elif task == "panic":
            _panic(name, action.arg if action.arg is not None else f"failpoint {name} panic")
        elif task == "print":
            text = action.arg if action.arg is not None else f"failpoint {name} executed."
            handler = _print_handler
            if handler is not None:
                handler(name, text)
            else:
                log.info("%s", text)
        elif task == "pause":
            with self.cond:
                while self.version == version:
                    self.cond.wait()
        elif task == "yield":
            time.sleep(0)
        elif task == "delay":
            deadline = time.monotonic() + action.ms / 1000
            while time.monotonic() < deadline:
                pass
        elif task == "callback" and action.callback is not None:
            action.callback()
        return None


_registry: dict[str, _FailPoint] = {}
_registry_lock = threading.Lock()
_rng = random.Random()
_rng_lock = threading.Lock()
_panic_handler: Callable[[str, str], None] | None = None
_scope: Callable[[], str | None] | None = None
_print_handler: Callable[[str, str], None] | None = None
_step_handler: Callable[[str, int, str, bool], None] | None = None
_reach_handler: Callable[[str], None] | None = None
_scenario_lock = threading.Lock()


def _draw(freq: float) -> bool:
    with _rng_lock:
        return _rng.random() < freq


def _panic(name: str, message: str) -> None:
    handler = _panic_handler
    if handler is not None:
        handler(name, message)
    raise FailPointPanic(message)


def seed(value: int | None) -> None:
    """Seed the RNG that decides ``p%`` actions (None: from the OS), so runs repeat."""
    with _rng_lock:
        _rng.seed(value)


def set_panic_handler(handler: Callable[[str, str], None] | None) -> None:
    """Call ``handler(name, message)`` when a ``panic`` fires, before raising FailPointPanic.

    A server that should die like a Rust process with ``panic = "abort"`` passes a handler
    that logs and calls ``os._exit``: a panic in a worker thread then kills the process
    instead of one request. None restores the default (just raise)."""
    global _panic_handler
    _panic_handler = handler


def set_print_handler(handler: Callable[[str, str], None] | None) -> None:
    """Send ``print`` tasks' text to ``handler(name, text)`` instead of the ``distlab.fail``
    logger (the simulator writes it to the node's own log). None restores the logger."""
    global _print_handler
    _print_handler = handler


def set_step_handler(handler: Callable[[str, int, str, bool], None] | None) -> None:
    """Call ``handler(name, step, task, counted)`` each time an evaluation takes a counted
    step (``step`` its index in the chain; its count just went down by one) or a ``panic``,
    before the task runs. A node process reports these to the harness, which carries the
    counts over to the process's next start (:class:`RunCounts`). None removes it."""
    global _step_handler
    _step_handler = handler


def set_reach_handler(handler: Callable[[str], None] | None) -> None:
    """Call ``handler(name)`` the first time each configured point is evaluated (fired or
    not). A node process reports it, so that the harness can say which configured points no
    node reached, as the simulator does from :func:`reached`. None removes it."""
    global _reach_handler
    _reach_handler = handler


def set_scope(resolver: Callable[[], str | None] | None) -> None:
    """``resolver()`` names the node whose code is running (None: no node); then a point set
    as ``NODE/NAME`` fires only in that node's code. The simulator sets it; None removes it."""
    global _scope
    _scope = resolver


def _lookup(name: str) -> _FailPoint | None:
    """The point that applies here: this node's scoped entry, else the bare name's."""
    if _scope is not None:
        node = _scope()
        if node is not None:
            point = _registry.get(f"{node}/{name}")
            if point is not None:
                return point
    return _registry.get(name)


def fail_point(name: str) -> None:
    """Evaluate the point ``name``. ``return`` is not meaningful here: use fail_return."""
    if not _registry:
        return
    point = _lookup(name)
    if point is None:
        return
    if point.eval(name) is not None:
        _panic(name, f'return is not supported for the fail point "{name}" (use fail_return)')


def fail_return(name: str) -> Returned | None:
    """Evaluate ``name``; a Returned when a ``return`` task fired (the caller returns early)."""
    if not _registry:
        return None
    point = _lookup(name)
    if point is None:
        return None
    return point.eval(name)


def cfg(name: str, actions: str) -> None:
    """Configure ``name`` with ``actions`` (replacing what it had; wakes paused threads)."""
    if not name or "=" in name or ";" in name or name != name.strip():
        raise FailPointError(f"bad fail point name {name!r}")
    parsed = parse_actions(actions)
    with _registry_lock:
        point = _registry.setdefault(name, _FailPoint(name))
        point.set(actions, parsed)


def cfg_callback(name: str, callback: Callable[[], None]) -> None:
    """Make ``name`` call ``callback()`` each time it is reached (as fail-rs's cfg_callback)."""
    with _registry_lock:
        point = _registry.setdefault(name, _FailPoint(name))
        point.set("callback", [_Action(task="callback", callback=callback)])


def remove(name: str) -> bool:
    """Remove ``name`` (waking threads paused on it); whether it was configured."""
    with _registry_lock:
        point = _registry.pop(name, None)
    if point is None:
        return False
    point.set("", [])
    return True


def reached(name: str) -> int:
    """How many times code evaluated the configured point ``name`` (fired or not; 0 when not
    configured). A harness tells with it a point the code under test never reaches (a
    misspelt name, a system without it) from one that was reached and did nothing."""
    with _registry_lock:
        point = _registry.get(name)
    return 0 if point is None else point.reached


def list_points() -> list[tuple[str, str]]:
    """``(name, actions)`` of every configured point, sorted by name."""
    with _registry_lock:
        return sorted((name, p.text) for name, p in _registry.items())


def teardown() -> None:
    """Remove every point, waking every paused thread."""
    with _registry_lock:
        points = list(_registry.values())
        _registry.clear()
    for point in points:
        point.set("", [])


def parse_env(value: str) -> list[tuple[str, str]]:
    """``name=actions;name=actions`` into pairs, checking every action list; empty parts skip."""
    pairs: list[tuple[str, str]] = []
    for part in split_points(value):
        part = part.strip()
        if not part:
            continue
        name, eq, actions = part.partition("=")
        name = name.strip()
        if not eq or not name:
            raise FailPointError(f"{ENV_VAR}: expected NAME=ACTIONS, got {part!r}")
        try:
            parse_actions(actions)
        except FailPointError as exc:
            raise FailPointError(f"{ENV_VAR}: fail point {name!r}: {exc}") from None
        pairs.append((name, actions.strip()))
    return pairs


def parse_run_spec(
    spec: str, node_ids: list[str] | None = None, simulator: bool = False,
) -> list[tuple[str, str]]:
    """``[NODE/]NAME=ACTIONS[;...]`` (one ``distlab test --fail``) into ``(key, actions)``
    pairs for :func:`cfg`, the key ``NODE/NAME`` or ``NAME``. The name must be in
    :data:`POINTS`, NODE one of ``node_ids`` (when given); in the simulator only
    :data:`SIM_TASKS`. FailPointError says, in one line, what is wrong and where."""
    pairs: list[tuple[str, str]] = []
    for part in split_points(spec):
        part = part.strip()
        if not part:
            continue
        key, eq, actions = part.partition("=")
        key = key.strip()
        if not eq or not key:
            raise FailPointError(f"--fail {part!r}: expected [NODE/]NAME=ACTIONS, "
                                 "e.g. n2/raft::before_apply=1*panic")
        node, slash, name = key.rpartition("/")
        if slash and not node:
            raise FailPointError(f"--fail {part!r}: no node before '/'")
        if name not in POINTS:
            raise FailPointError(f"--fail {part!r}: unknown fail point {name!r}; "
                                 f"known: {', '.join(POINTS)}")
        if node and node_ids is not None and node not in node_ids:
            raise FailPointError(f"--fail {part!r}: {node!r} is not a node of this run "
                                 f"({', '.join(node_ids)})")
        try:
            parsed = parse_actions(actions)
        except FailPointError as exc:
            raise FailPointError(f"--fail {part!r}: {exc}") from None
        for action in parsed:
            if action.task == "return":
                raise FailPointError(f"--fail {part!r}: {name} marks a window and has no early "
                                     "return; use panic, print or off")
            if simulator and action.task not in SIM_TASKS:
                raise FailPointError(
                    f"--fail {part!r}: {action.task} would stop every node at once (the "
                    "simulator runs them all in one process); use panic, print or off, "
                    "or run real processes (--mode process)")
        pairs.append((key, actions.strip()))
    if not pairs:  # an empty --fail would be recorded and shown as if it injected something
        raise FailPointError(f"--fail {spec!r} names no fail point: expected [NODE/]NAME=ACTIONS, "
                             "e.g. n2/raft::before_apply=1*panic")
    return pairs


def node_points(pairs: list[tuple[str, str]], node_id: str) -> list[tuple[str, str]]:
    """The ``(name, actions)`` one node process is given, from :func:`parse_run_spec`'s
    pairs: its own points (scope dropped) and the bare ones, its own entry winning where
    both name a point (as :func:`_lookup` decides in the simulator), in first-seen order."""
    chosen: dict[str, tuple[bool, str]] = {}
    for key, actions in pairs:
        node, _, name = key.rpartition("/")
        if node and node != node_id:
            continue
        scoped = bool(node)
        held = chosen.get(name)
        if held is None or scoped or not held[0]:  # later entries replace, as cfg does
            chosen[name] = (scoped, actions)
    return [(name, actions) for name, (_, actions) in chosen.items()]


RECORD_EVENT = "failpoint"
"""The ``event`` of the SDK record (``[distlab-sdk] {...}`` on stderr) a node process
writes when a fail point takes a counted step or panics: ``{"event": "failpoint", "type":
NAME, "step": INDEX, "task": TASK, "counted": BOOL}``; and, with no step, ``"task":
"configured"`` for each point it set up at start and ``"task": "reached"`` the first time
it evaluates one (so the harness can name the points no node reached)."""


def _with_count(step: str, count: int) -> str:
    """One action's text with its ``cnt*`` set to ``count`` (the rest as written)."""
    head, paren, tail = step.strip().partition("(")
    pct, sep, rest = head.partition("%")
    prefix = pct + sep if sep else ""
    if not sep:
        rest = head
    _, star, task = rest.partition("*")
    return f"{prefix}{count}*{(task if star else rest).strip()}{paren}{tail}"


class RunCounts:
    """One node's fail points across its process's restarts: counts hold for the run.

    A process reads ``FAILPOINTS`` only when it starts, so counted steps would start over at
    every restart (``1*panic`` at a point the restarted node reaches again would crash it on
    every start). The harness feeds this the process's :data:`RECORD_EVENT` records (each
    counted step it consumed, each panic) and, at the next start, gives it :meth:`env`: the
    same chains with every count lowered by what earlier incarnations used (a used-up step
    stays as ``0*``, so step indices still match; a chain used up entirely is ``off``).
    ``p%`` draws are not carried: each process draws from its own RNG."""

    def __init__(self, points: list[tuple[str, str]]) -> None:
        self.steps: dict[str, list[str]] = {}
        self.left: dict[str, list[int | None]] = {}
        for name, actions in points:
            parsed = parse_actions(actions)
            self.steps[name] = [part.strip() for part in split_chain(actions)]
            self.left[name] = [a.count for a in parsed]
        self.last_panic: str | None = None  # the point whose panic this incarnation reported

    def record(self, rec: Mapping[str, Any]) -> None:
        """One record from the running process; unknown points and steps are ignored."""
        name = str(rec.get("type"))
        left = self.left.get(name)
        step = rec.get("step")
        if left is None or not isinstance(step, int) or not 0 <= step < len(left):
            return
        if rec.get("counted"):
            count = left[step]
            if count is not None and count > 0:
                left[step] = count - 1
        if rec.get("task") == "panic":
            self.last_panic = name

    def chain(self, name: str) -> str:
        """The actions ``name`` continues with at the next start."""
        left = self.left[name]
        if all(count == 0 for count in left):
            return "off"
        return "->".join(step if count is None else _with_count(step, count)
                         for step, count in zip(self.steps[name], left, strict=True))

    def env(self) -> str:
        """``FAILPOINTS`` for the next start (and a new incarnation: no panic yet)."""
        self.last_panic = None
        return ";".join(f"{name}={self.chain(name)}" for name in self.steps)


def setup_from_env(environ: Mapping[str, str] | None = None) -> list[str]:
    """Configure the points named in ``FAILPOINTS``; all or nothing (FailPointError on a
    bad entry, nothing configured). Returns the names configured."""
    value = (os.environ if environ is None else environ).get(ENV_VAR)
    if value is None:
        return []
    pairs = parse_env(value)
    for name, actions in pairs:
        cfg(name, actions)
    return [name for name, _ in pairs]


class FailScenario:
    """A scope for fail points: ``with FailScenario(): ...``.

    Entering takes a process-wide lock (one scenario at a time, so tests in threads do not
    see each other's points), clears every point and applies ``FAILPOINTS``; leaving clears
    every point again, waking paused threads, and releases the lock. ``setup()`` /
    ``teardown()`` do the same without ``with``."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ
        self._held = False

    @classmethod
    def setup(cls, environ: Mapping[str, str] | None = None) -> FailScenario:
        scenario = cls(environ)
        scenario.__enter__()
        return scenario

    def teardown(self) -> None:
        self.__exit__(None, None, None)

    def __enter__(self) -> FailScenario:
        _scenario_lock.acquire()
        self._held = True
        try:
            teardown()
            setup_from_env(self._environ)
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        if not self._held:
            return
        self._held = False
        try:
            teardown()
        finally:
            _scenario_lock.release()


@contextmanager
def guard(name: str, actions: str) -> Iterator[None]:
    """Configure one point for the ``with`` block, then remove it (fail-rs's FailGuard)."""
    cfg(name, actions)
    try:
        yield
    finally:
        remove(name)
