"""Running one test: clients, generator, nemesis and final phase over a cluster.

The runner is written against asyncio and a small cluster interface, so the
same code drives the simulator (virtual time) and, later, real processes.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import orjson

from distlab import fail
from distlab.history import FAIL, INFO, INVOKE, NEMESIS, OK, History
from distlab.nemesis import Nemesis
from distlab.netlog import NetLog
from distlab.options import RunError, TestOptions
from distlab.protocol import CRASH, NOT_SUPPORTED, TIMEOUT, RPCError, is_definite
from distlab.report.node_errors import node_error_list, verdict_note
from distlab.report.results import run_checker, summarize, trace_hash
from distlab.runmetrics import MetricsServer, MetricsTrace, RunMetrics
from distlab.runtime.factory import make_runtime
from distlab.runtime.process.cluster import ProcessError
from distlab.runtime.protocols import ClockCluster, Cluster, HarnessLoop
from distlab.runtime.sim.cluster import NodeCrashed, SimCluster
from distlab.runtime.sim.loop import OWNER, NodeStalled, SimulationAbort
from distlab.services import make_services
from distlab.workloads.base import Op, Workload, load_workload

INIT_TIMEOUT = 10.0
CONVERGE_SECONDS = 10.0
FINAL_SECONDS = 10.0
"""How long a paged final read (kafka's polls) may go on asking for more, as Maelstrom
clips its kafka final generator to 10 s; a single final read is bounded by --op-timeout."""
FINAL_PAUSE = 0.4
"""A final request repeated comes uniform(0, this) seconds later (Maelstrom's
`gen/stagger 1/5` between final polls)."""
FINAL_OPS_PER_READER = 10_000  # a bound that only a node answering nonsense at once could reach


@dataclass
class RunResult:
    valid: Any  # True, False or "unknown"
    results: dict[str, Any]
    run_dir: Path

    @property
    def exit_code(self) -> int:
        return 0 if self.valid is True else 1 if self.valid is False else 2


class _Scheduler:
    """Jepsen's stagger: ops spaced by uniform(0, 2/rate) across all clients together."""

    def __init__(self, rate: float, rng: random.Random, end: float) -> None:
        self.gap = 2.0 / rate
        self.random = rng.random  # uniform(0, gap) is gap * random(), bit for bit
        self.end = end
        self.next_at = 0.0

    def reserve(self, now: float) -> float | None:
        at = now if now > self.next_at else self.next_at
        if at >= self.end:
            return None
        self.next_at = at + self.gap * self.random()
        return at


class Runner:
    """One test run, in the simulator or with real processes (opts.mode)."""

    def __init__(
        self,
        opts: TestOptions,
        run_dir: Path,
        workload_cls: type[Workload] | None = None,
        progress: Callable[[float, float, int], None] | None = None,
        phase: Callable[[str], None] | None = None,
        metrics_server: MetricsServer | None = None,
    ) -> None:
        self.opts = opts
        self.phase = phase or (lambda name: None)
        self.run_dir = run_dir
        self.progress = progress
        seed = opts.seed
        self.node_ids = opts.node_ids()  # --nodes as given, else n0..n{N-1}
        self.mode = opts.resolved_mode()
        self.network = opts.network(random.Random(f"{seed}/network"))
        self.history = History()
        self._trace: Any = _NoTrace() if opts.no_trace else open(run_dir / "messages.jsonl", "wb")  # noqa: SIM115
        if opts.log_net_send or opts.log_net_recv:
            self._trace = NetLog(self._trace, opts.log_net_send, opts.log_net_recv)
        # Metrics: counted from the trace as it is written with real processes; in the
        # simulator from messages.jsonl after the run, so its hot path pays nothing.
        self.metrics = RunMetrics()
        self.metrics_server = metrics_server
        if self.mode in ("process", "net"):
            self._trace = MetricsTrace(self._trace, self.metrics)
        self.loop: HarnessLoop
        self.cluster: Cluster
        self.loop, self.cluster = make_runtime(opts, self.network, run_dir, self._trace)
        self.cluster.client_handler = self._on_client_message
        self.metrics.bind(self.cluster)
        if metrics_server is not None:
            metrics_server.serve(self.metrics)
        self.cluster.services = make_services(seed)
        cls = workload_cls or load_workload(opts.workload)
        self.workload = cls(cls.params_from(opts), random.Random(f"{seed}/workload"))
        self.workload.configure_services(self.cluster.services)
        # most workloads record op.value as is; skipping the call matters per operation
        self.plain_values = type(self.workload).invoke_value is Workload.invoke_value
        self.nemesis = Nemesis(opts.nemesis, opts.nemesis_interval, random.Random(f"{seed}/nemesis"), self,
                               opts.nemesis_schedule, opts.nemesis_ensure, opts.op_timeout)
        self._gen_rng = random.Random(f"{seed}/generator")
        self._pending: dict[tuple[str, int], Callable[[dict[str, Any] | None], None]] = {}
        self._deadlines: dict[float, deque[tuple[float, tuple[str, int]]]] = {}
        self._next_client = 0
        self._client_msg_ids: dict[str, int] = {}
        self.latencies: list[float] = []
        self.client_ops = 0
        self._unanswered: set[tuple[str, int]] = set()  # client requests timed out, no late reply yet
        # --fail: the simulator evaluates them in this process (installed for the run);
        # real processes get each its own FAILPOINTS, its counts carried over restarts
        self._fail_points = opts.fail_points()
        self.fail_crashes: list[dict[str, Any]] = []
        self.fail_unreached: list[str] = []  # configured points no node's code evaluated
        # real processes: the points each node said it set up ("configured") and evaluated
        # at least once ("reached"), from its SDK records
        self._fail_said: dict[str, dict[str, set[str]]] = {}
        self._fail_counts: dict[str, fail.RunCounts] = {}
        if self._fail_points and self.mode != "sim" and hasattr(self.cluster, "env_for"):
            for node_id in self.node_ids:
                points = fail.node_points(self._fail_points, node_id)
                if points:
                    self._fail_counts[node_id] = fail.RunCounts(points)
            self.cluster.env_for = self._fail_env  # type: ignore[attr-defined]
            self.cluster.node_events.on_failpoint = self._fail_record
            self.cluster.on_failpoint_exit = self._fail_exited  # type: ignore[attr-defined]

    # ----- Control (for the nemesis) --------------------------------------------------
    def crash(self, node_id: str) -> None:
        self.cluster.crash(node_id)

    async def restart(self, node_id: str) -> None:
        if self.mode == "sim" and self.cluster.alive(node_id):
            # a fail point's crash was restarted meanwhile: stop that incarnation first
            self.cluster.crash(node_id)
        await self._start_node(node_id)

    # ----- fail points (--fail) in the simulator -----------------------------------------
    def _install_fail_points(self) -> None:
        """Configure --fail for this run: scoped to the node whose code runs, a panic
        crashing that node only (restarted FAIL_RESTART_SECONDS later, as a supervisor
        would); the RNG for p% was seeded from the run's seed by the cluster."""
        fail.teardown()
        for key, actions in self._fail_points:
            fail.cfg(key, actions)
        fail.set_scope(_running_node)
        fail.set_panic_handler(self._fail_panic)
        fail.set_print_handler(self._fail_print)

    def _remove_fail_points(self) -> None:
        self.fail_unreached = [key for key, _ in self._fail_points if fail.reached(key) == 0]
        fail.teardown()
        fail.set_scope(None)
        fail.set_panic_handler(None)
        fail.set_print_handler(None)

    def _fail_print(self, name: str, text: str) -> None:
        owner = OWNER.get()
        if owner is not None and not owner.dead:
            self.cluster.nodes[owner.node_id].log(text)

    def _fail_panic(self, name: str, message: str) -> None:
        owner = OWNER.get()
        if owner is None or owner.dead:
            return  # not node code: FailPointPanic goes up as usual
        node_id = owner.node_id
        now = self.loop.time()
        self.fail_crashes.append({"t": round(now, 6), "node": node_id, "point": name})
        self.cluster.nodes[node_id].log(f"[distlab] fail point {name} panicked ({message}): "
                                        f"the node crashes, restart in {FAIL_RESTART_SECONDS:g} s")
        self.cluster.crash(node_id)
        self.loop.call_harness_at(now + FAIL_RESTART_SECONDS, self._restart_after_panic, node_id)
        raise NodeCrashed(f"{node_id} crashed at fail point {name}")

    # ----- fail points (--fail) in real processes ----------------------------------------
    def _fail_env(self, node_id: str) -> dict[str, str]:
        """FAILPOINTS for this start of the node's process: what earlier incarnations used
        of each count is gone, so ``1*panic`` fires once per run, as in the simulator."""
        counts = self._fail_counts.get(node_id)
        if counts is None:
            return {}
        text = counts.env()
        if self.cluster.nodes[node_id].incarnations:  # a restart: say what it continues with
            self.cluster.nodes[node_id].log(f"[distlab] {fail.ENV_VAR} carried over: {text}")
        return {fail.ENV_VAR: text}

    def _fail_record(self, node_id: str, at: float, rec: dict[str, Any]) -> None:
        task = rec.get("task")
        if task in ("configured", "reached") and "step" not in rec:
            self._fail_said.setdefault(node_id, {}).setdefault(task, set()).add(str(rec.get("type")))
            return
        counts = self._fail_counts.get(node_id)
        if counts is not None:
            counts.record(rec)

    def _process_unreached(self) -> list[str] | None:
        """The configured points no node process evaluated, as the simulator's list: a
        NODE/NAME point is that node's, a bare one every node's without its own entry. A
        point is listed only when every node it went to said it set it up (a node that
        writes no records, not distlab's SDK, leaves it unknown); None: nothing known."""
        keys = {key for key, _ in self._fail_points}
        unreached: list[str] = []
        known = False
        for key, _ in self._fail_points:
            node, _, name = key.rpartition("/")
            targets = [node] if node else [n for n in self.node_ids if f"{n}/{name}" not in keys]
            said = [self._fail_said.get(n, {}) for n in targets]
            if any(name in s.get("reached", ()) for s in said):
                known = True
            elif said and all(name in s.get("configured", ()) for s in said):
                known = True
                unreached.append(key)
        return unreached if known else None

    def _fail_exited(self, node_id: str) -> None:
        """A node process ended by a fail point's panic (its record names the point)."""
        now = self.loop.time()
        counts = self._fail_counts.get(node_id)
        point = None if counts is None else counts.last_panic
        self.fail_crashes.append({"t": round(now, 6), "node": node_id, "point": point})
        self.loop.call_later(FAIL_RESTART_SECONDS, self._restart_after_panic, node_id)

    def _restart_after_panic(self, node_id: str) -> None:
        if self.cluster.alive(node_id):
            return  # a fault's heal already restarted it
        task = asyncio.ensure_future(self._start_node(node_id))
        task.add_done_callback(self._restart_done)

    def _restart_done(self, task: asyncio.Future[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.loop.abort(str(task.exception()))

    def pause(self, node_id: str) -> None:
        self.cluster.pause(node_id)

    def resume(self, node_id: str) -> None:
        self.cluster.resume(node_id)

    # The clock fault needs the "virtual-clock" capability, checked against the
    # runtime before the run (nemesis.unsupported), so the cluster has these.
    def set_clock(self, node_id: str, **clock: float) -> None:
        cast(ClockCluster, self.cluster).set_clock(node_id, **clock)

    def reset_clock(self, node_id: str) -> None:
        cast(ClockCluster, self.cluster).reset_clock(node_id)

    def record(self, f: str, value: Any) -> None:
        now = self.loop.time()
        self.history.add(now, NEMESIS, INVOKE, f, value)
        self.history.add(now, NEMESIS, INFO, f, value)

    # ----- clients --------------------------------------------------------------------
    # The hot path is callbacks, not tasks: an operation costs the simulator a
    # couple of loop steps. Timeouts sit in one FIFO per timeout length (all
    # deadlines in it are in order), each with a single timer.
    def _new_client(self) -> str:
        cid = f"c{self._next_client}"
        self._next_client += 1
        self._client_msg_ids[cid] = 0
        self.cluster.add_client(cid)
        return cid

    def request(
        self, client: str, node: str, body: dict[str, Any], timeout: float,
        on_done: Callable[[dict[str, Any] | None], None],
    ) -> None:
        """Send a client request; `on_done(reply_body)` later, or `on_done(None)` on timeout."""
        self._client_msg_ids[client] += 1
        msg_id = self._client_msg_ids[client]
        key = (client, msg_id)
        self._pending[key] = on_done
        queue = self._deadlines.get(timeout)
        if queue is None:
            queue = self._deadlines[timeout] = deque()
        queue.append((self.loop.now + timeout, key))
        if len(queue) == 1:
            self.loop.call_harness_at(queue[0][0], self._expire_due, timeout)
        body["msg_id"] = msg_id  # bodies are built fresh for each request
        self.cluster.route(client, node, body)

    def _expire_due(self, timeout: float) -> None:
        queue = self._deadlines[timeout]
        now = self.loop.time()
        pending = self._pending
        while queue and queue[0][0] <= now:
            key = queue.popleft()[1]
            on_done = pending.pop(key, None)
            if on_done is not None:
                self._unanswered.add(key)  # a late reply takes it out again
                on_done(None)
        while queue and queue[0][1] not in pending:
            queue.popleft()
        if queue:
            self.loop.call_harness_at(queue[0][0], self._expire_due, timeout)

    def _on_client_message(self, client: str, body: dict[str, Any]) -> None:
        key = (client, body.get("in_reply_to"))
        on_done = self._pending.pop(key, None)
        if on_done is not None:
            on_done(body)
        elif self._unanswered:
            self._unanswered.discard(key)  # type: ignore[arg-type]  (late: answered after all)

    async def call(self, client: str, node: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        """A client RPC; raises RPCError (code 0 on timeout, or the node's error)."""
        fut = self.loop.create_future()
        self.request(client, node, body, timeout, lambda r: fut.done() or fut.set_result(r))
        return _reply_or_raise(await fut)

    async def _start_node(self, node_id: str) -> None:
        self.cluster.start(node_id)
        await self._init(node_id)

    def _record(
        self, process: int, op: Op, start: float, reply: dict[str, Any] | None, final: bool = False, node: str = "",
    ) -> str:
        """Record an operation's completion; returns its type (ok, fail or info)."""
        wl = self.workload
        now = self.loop.now
        try:
            if reply is None or reply.get("type") == "error":
                _reply_or_raise(reply)
            rtype = reply.get("type")  # type: ignore[union-attr]
            if not (isinstance(rtype, str) and rtype.endswith("_ok")):
                # Maelstrom's clients check a reply's schema: `echo` is answered `echo_ok`.
                # A reply of another type is the node's bug, never a success.
                text = (f"answered a client's request with a reply of type {_short(rtype)}: a reply's "
                        "type is the request's type + '_ok' (echo -> echo_ok), or 'error'")
                self.cluster.node_events.protocol(node or "a node", self.loop.time(), text)
                raise _WrongReplyType(text)
            value = wl.ok_value(op, reply)  # type: ignore[arg-type]
        except RPCError as exc:
            if exc.code == CRASH or exc.code == NOT_SUPPORTED:
                self._note_error_reply(node, op, exc)
            kind = FAIL if is_definite(exc.code) or op.f in wl.read_only else INFO
            self.history.add(now, process, kind, op.f, wl.invoke_value(op), error=[exc.code, exc.text])
            return kind
        except Exception as exc:  # a reply the workload cannot read is the node's bug
            if not isinstance(exc, _WrongReplyType):  # (noted above)
                # A node error too: an operation left indefinite is invisible to most checkers
                # (a read_ok without `value` read nothing), so the history alone would pass it.
                rtype = reply.get("type") if isinstance(reply, dict) else None
                why = (f"without its {exc.args[0]!r} field" if isinstance(exc, KeyError) and exc.args
                       else f"that the client cannot read ({type(exc).__name__}: {exc})")
                self.cluster.node_events.protocol(
                    node or "a node", self.loop.time(), f"answered a client's {op.f!r} with a {_short(rtype)} reply {why}")
            self.history.add(now, process, INFO, op.f, wl.invoke_value(op), error=["malformed-reply", f"{exc}: {reply}"])
            return INFO
        done = self.history.add(now, process, OK, op.f, value)
        if final:
            done["final"] = True  # Jepsen's :final? — checkers tell final reads apart by it
        else:
            self.latencies.append(now - start)
        return OK

    def _note_error_reply(self, node: str, op: Op, exc: RPCError) -> None:
        """Crash and not-supported replies, per node and request type: node errors even
        for a node that writes no SDK records (any language)."""
        try:
            msg_type = str(self.workload.request(op).get("type", op.f))
        except Exception:
            msg_type = op.f
        self.cluster.node_events.reply_error(node, msg_type, exc.code, self.loop.time(), exc.text)

    async def _invoke(self, process: int, client: str, node: str, op: Op, final: bool = False) -> str:
        start = self.loop.time()
        invoked = self.history.add(start, process, INVOKE, op.f, self.workload.invoke_value(op))
        if final:  # marked on the invocation too, so a final read that fails is seen as one
            invoked["final"] = True
            invoked["node"] = node
        fut = self.loop.create_future()
        self.request(client, node, self.workload.request(op), self.opts.op_timeout, lambda r: fut.done() or fut.set_result(r))
        return self._record(process, op, start, await fut, final, node)

    async def _final_phase(self) -> None:
        """Heal, let the cluster converge, then Maelstrom's final reads (`gen/each-thread`):
        each client worker reads its own node once, all at the same time, plus one reader
        for any node no worker is bound to, so every node is read. A read that fails is not
        retried: it is in the history, marked final, for the checker to judge."""
        await self.nemesis.heal_all()
        if not self.workload.final_phase:
            return
        await _sleep_until(self.loop, self.loop.time() + CONVERGE_SECONDS)
        nodes = [self.node_ids[w % len(self.node_ids)] for w in range(self.opts.worker_count())]
        nodes += [n for n in self.node_ids if n not in nodes]
        deadline = self.loop.time() + FINAL_SECONDS
        base = 10**6
        await asyncio.gather(*(self._final_reader(base + i, node, op, deadline)
                               for i, (node, op) in enumerate(self.workload.final_ops(nodes))))

    async def _final_reader(self, process: int, node: str, op: Op, deadline: float) -> None:
        """One final reader on its own client. Its first operation always runs; after each,
        the workload may ask for another (the next page of a poll, or the same request
        again), until it asks for none or the deadline has passed. A request repeated
        (a retry, or nothing new came) waits first, as Maelstrom paces its final polls."""
        client = self._new_client()
        for _ in range(FINAL_OPS_PER_READER):
            kind = await self._invoke(process, client, node, op, final=True)
            value = self.history.records[-1]["value"] if kind == OK else None
            following = self.workload.final_next(op, value)
            if following is None or self.loop.time() >= deadline:
                return
            if kind != OK or following.value == op.value:
                pause = FINAL_PAUSE * self._gen_rng.random()
                await _sleep_until(self.loop, min(deadline, self.loop.time() + pause))
            op = following

    async def _ticker(self, end: float) -> None:
        """Progress once per simulated second; the last report comes from _main."""
        if self.progress is None:
            return
        while self.loop.time() + 1.0 < end:
            await _sleep_until(self.loop, self.loop.time() + 1.0)
            self.progress(self.loop.time(), end, self.client_ops)

    async def _main(self) -> None:
        loop = self.loop
        await asyncio.gather(*(self._start_node(n) for n in self.node_ids))
        await self.workload.setup(self._setup_call, self.node_ids)
        start = loop.time()
        end = start + self.opts.time_limit
        workers = self.opts.worker_count()
        ticker = asyncio.ensure_future(self._ticker(end))
        nemesis = asyncio.ensure_future(self.nemesis.run(end, loop.time))
        if self.opts.rate > 0:
            sched = _Scheduler(self.opts.rate, self._gen_rng, end)
            sched.next_at = start
            clients = [_Worker(self, w, workers, sched) for w in range(workers)]
            for worker in clients:
                worker.schedule()
            await asyncio.gather(*(worker.finished for worker in clients))
        else:  # --rate 0, as Maelstrom's (gen/sleep time-limit): no client operations, faults still come
            await _sleep_until(loop, end)
        if self.progress is not None:
            self.progress(end, end, self.client_ops)
        await nemesis
        self.phase("healing" + (", converging, final reads" if self.workload.final_phase else ""))
        await self._final_phase()
        ticker.cancel()

    async def _init(self, node_id: str) -> None:
        """The handshake: init must be answered with init_ok within 10 s."""
        client = self._new_client()
        body = {"type": "init", "node_id": node_id, "node_ids": list(self.node_ids)}
        try:
            reply = await self.call(client, node_id, body, INIT_TIMEOUT)
        except RPCError as exc:
            if exc.code == TIMEOUT:
                raise SimulationAbort(f"node {node_id} did not answer init within {INIT_TIMEOUT:g} s") from None
            raise SimulationAbort(f"node {node_id} answered init with {exc}") from None
        if reply.get("type") != "init_ok":
            raise SimulationAbort(f"node {node_id} answered init with {reply.get('type')!r}, not init_ok")

    async def _setup_call(self, node: str, body: dict[str, Any]) -> dict[str, Any]:
        """A workload's set-up request (e.g. broadcast's topology): the run cannot go on
        without its answer, so an error ends it with one line saying which."""
        what = body.get("type")
        try:
            return await self.call(self._new_client(), node, dict(body), self.opts.op_timeout)
        except RPCError as exc:
            if exc.code in (CRASH, NOT_SUPPORTED):
                self.cluster.node_events.reply_error(node, str(what), exc.code, self.loop.time(), exc.text)
            if exc.code == NOT_SUPPORTED:
                why = f"node {node} has no handler for {what!r} (error 10, not supported)"
            elif exc.code == TIMEOUT:
                why = f"node {node} did not answer {what!r} within {self.opts.op_timeout:g} s"
            else:
                why = f"node {node} answered {what!r} with {exc}"
            raise SimulationAbort(f"{why}; the {self.opts.workload} workload sends {what!r} to every node "
                                  "before clients start, so the test cannot run") from None

    # ----- the whole run --------------------------------------------------------------
    def run(self) -> RunResult:
        try:
            return self._run()
        finally:
            if self.metrics_server is not None:
                self.metrics_server.close()

    def _run(self) -> RunResult:
        wall_start = time.perf_counter()
        error: str | None = None
        if self.mode == "sim" and self._fail_points:
            self._install_fail_points()
        try:
            self.loop.run_guarded(self._main())
        except (SimulationAbort, NodeStalled, ProcessError) as exc:
            error = str(exc)
        except RuntimeError as exc:
            if self.loop.abort_reason is None:
                raise
            del exc
        finally:
            error = self.loop.abort_reason or error
            if self.mode == "sim" and self._fail_points:
                self._remove_fail_points()
            self.cluster.close()  # first: real processes are stopped while the loop still runs
            self.loop.shutdown()
            self._trace.close()
        wall = time.perf_counter() - wall_start
        return self._finish(error, wall)

    def _finish(self, error: str | None, wall: float) -> RunResult:
        self.phase("checking the history")
        history_path = self.run_dir / "history.jsonl"
        self.history.write(history_path)
        trace_path = self.run_dir / "messages.jsonl"
        if self.mode == "sim" and trace_path.exists():
            self.metrics.read_trace(trace_path)
        self.metrics.write(self.run_dir / "metrics.prom")
        records = {name: r for name, svc in self.cluster.services.items() if (r := svc.record()) is not None}
        if records:  # before checking: a checker may hold the history against a service's own record
            (self.run_dir / "services.json").write_bytes(orjson.dumps(records))
        unanswered = self._unanswered | set(self._pending)  # timed out, or still waiting at the end
        # The run's checkers see the run as config.json records it, so `distlab analyze`
        # rebuilds the same composition from that file.
        params = {**asdict(self.opts), "run_dir": str(self.run_dir), "mode": self.mode}
        results = summarize(
            self.history.records,
            run_checker(self.workload.checker(), self.opts.required_availability()),
            params,
            latencies=self.latencies,
            server_msgs=self.cluster.server_msgs,
            client_msgs=self.cluster.client_msgs,
            dropped=self.cluster.dropped,
            lost=getattr(self.cluster, "lost", 0),
            node_errors=[e for e in node_error_list(self.cluster.node_events, unanswered, self.cluster.clients)
                         if not (e["kind"] == "not-supported" and e["type"] in self.workload.probe_types)],
            error=error,
        )
        note = verdict_note(self.cluster.node_events, unanswered, self.cluster.clients)
        if note is not None:
            results["verdict_note"] = note
        results["mode"] = self.mode
        results["net"]["delay"] = self.opts.delay_text()
        kernel = getattr(self.cluster, "kernel_stats", None)
        if kernel:  # --mode net: what nftables dropped and TCP retransmitted, per node
            results["net"]["kernel"] = kernel
        if isinstance(self.cluster, SimCluster):
            results["disks"] = self.cluster.save_disks(self.run_dir / "disks")
        results["sim_seconds"] = round(self.loop.time(), 6)
        results["wall_seconds"] = round(wall, 4)
        results["nemesis_ops"] = dict(sorted(self.nemesis.counts.items()))
        results["warnings"] = self.nemesis.warnings()
        if self.opts.fail:
            results["fail_points"] = {"config": list(self.opts.fail), "crashes": self.fail_crashes}
            if self.mode == "sim":
                results["fail_points"]["unreached"] = self.fail_unreached
            else:  # real processes say which points they set up and reached (SDK records)
                unreached = self._process_unreached()
                if unreached is not None:
                    self.fail_unreached = unreached
                    results["fail_points"]["unreached"] = unreached
            # A point the nodes never evaluate injects nothing: without this line such a run
            # reads as a system that survived the failure.
            results["warnings"].extend(
                f"fail point {key} was never reached: no node's code in this run evaluates it "
                "(distlab.fail.POINTS says which systems do), so nothing was injected there"
                for key in self.fail_unreached)
        results["trace_hash"] = trace_hash(self.run_dir)
        (self.run_dir / "results.json").write_bytes(
            orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
        )
        return RunResult(results["valid"], results, self.run_dir)


FAIL_RESTART_SECONDS = 1.0
"""Simulated seconds between a fail point's panic crashing a node and its restart."""


def _running_node() -> str | None:
    """The node whose code runs now, in the simulator (None: the harness)."""
    owner = OWNER.get()
    return None if owner is None else owner.node_id


class _NoTrace:
    """A message trace that keeps nothing (--no-trace): the runtimes still count every
    message; only messages.jsonl is not written."""

    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None


class _WrongReplyType(ValueError):
    """A client got a reply whose type is neither `<request>_ok` nor `error`."""


def _short(value: Any) -> str:
    """A reply field quoted for a message (bounded: a node may send anything)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _reply_or_raise(reply: dict[str, Any] | None) -> dict[str, Any]:
    if reply is None:
        raise RPCError(TIMEOUT, "client timed out")
    if reply.get("type") == "error":
        raise RPCError.from_body(reply)
    return reply


class _Worker:
    """One client worker as a callback state machine: schedule, fire, complete, repeat."""

    def __init__(self, runner: Runner, index: int, workers: int, sched: _Scheduler) -> None:
        self.runner = runner
        self.process = index
        self.workers = workers
        self.sched = sched
        self.client = runner._new_client()
        self.finished: asyncio.Future[None] = runner.loop.create_future()
        self.op: Op | None = None
        self.start = 0.0
        self.timer: Any = None
        self.node = runner.node_ids[index % len(runner.node_ids)]
        self.timeout = runner.opts.op_timeout
        self.on_reply = self.completed  # one bound method, not one per operation

    def schedule(self) -> None:
        loop = self.runner.loop
        at = self.sched.reserve(loop.now)
        if at is None:
            if not self.finished.done():
                self.finished.set_result(None)
            return
        self.timer = loop.rearm_harness(self.timer, at, self.fire)

    def fire(self) -> None:
        r = self.runner
        self.op = op = r.workload.next_op(self.process)
        self.start = r.loop.now
        r.client_ops += 1
        r.history.add(self.start, self.process, INVOKE, op.f, op.value if r.plain_values else r.workload.invoke_value(op))
        r.request(self.client, self.node, r.workload.request(op), self.timeout, self.on_reply)

    def completed(self, reply: dict[str, Any] | None) -> None:
        r = self.runner
        if r._record(self.process, self.op, self.start, reply, False, self.node) == INFO:  # type: ignore[arg-type]
            # The op may still take effect: later ops belong to a new process (Jepsen).
            self.process += self.workers
            self.client = r._new_client()
            self.node = r.node_ids[self.process % len(r.node_ids)]
        self.schedule()


async def _sleep_until(loop: HarnessLoop, at: float) -> None:
    await asyncio.sleep(max(0.0, at - loop.time()))


def new_run_dir(store: str, workload: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S.%f")[:-3]
    run_dir = Path(store) / workload / stamp
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    n = 1
    while True:  # two runs started in the same millisecond (two checks at once) get two dirs
        try:
            run_dir.mkdir()
            break
        except FileExistsError:
            n += 1
            run_dir = Path(store) / workload / f"{stamp}-{n}"
    latest = Path(store) / "latest"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(os.path.relpath(run_dir, store))
    except OSError:
        pass  # a store on a filesystem without symlinks still works; only the shortcut is missing
    return run_dir


def run_test(
    opts: TestOptions,
    progress: Callable[[float, float, int], None] | None = None,
    workload_cls: type[Workload] | None = None,
    phase: Callable[[str], None] | None = None,
) -> RunResult:
    """Validate options, make the run directory, run, and write everything out."""
    if workload_cls is None:
        opts.validate()
    server = None
    if opts.metrics_addr is not None and opts.resolved_mode() != "sim":
        try:  # bound before anything starts: a busy port is one line, and no run directory
            server = MetricsServer(opts.metrics_addr)
        except ValueError as exc:
            raise RunError(str(exc)) from None
    try:
        run_dir = new_run_dir(opts.store, opts.workload)
        opts.jitter = opts.resolved_jitter()  # recorded even when validate() was skipped
        config = asdict(opts)
        config["bin"] = str(Path(opts.bin).resolve())
        config["bin_sha256"] = hashlib.sha256(Path(opts.bin).read_bytes()).hexdigest()
        (run_dir / "config.json").write_bytes(orjson.dumps(config, option=orjson.OPT_INDENT_2))
        runner = Runner(opts, run_dir, workload_cls=workload_cls, progress=progress, phase=phase,
                        metrics_server=server)
    except BaseException as exc:
        if server is not None:
            server.close()
        if isinstance(exc, SimulationAbort):
            raise RunError(str(exc)) from None
        raise
    return runner.run()
