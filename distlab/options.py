"""The options of a test run: validated once, saved as config.json, enough to replay it."""

from __future__ import annotations

import os
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from distlab.nemesis import SCHEDULES, ensure_problem, parse_kinds, unsupported
from distlab.protocol import SERVICE_IDS
from distlab.runtime.network import DEFAULT_JITTER_MS, Latency, Network
from distlab.runtime.protocols import CAPABILITIES
from distlab.workloads.base import load_workload

SDK_IMPORT = re.compile(r"^\s*(from\s+distlab[\s.]|import\s+distlab\b)", re.MULTILINE)

# Jepsen's default node list, which Maelstrom inherits when neither --node-count
# nor --nodes is given: five nodes, named from n1 (a node that assumes n0 exists
# fails there, so it fails here too).
DEFAULT_NODES = ("n1", "n2", "n3", "n4", "n5")
# Node ids become file names (node-logs/<id>.log) and must not look like clients (c0, c1, ...).
NODE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
CLIENT_ID = re.compile(r"c\d+")


class RunError(Exception):
    """The test could not run (bad options, a node that cannot start); exit status 2."""


def resolve_nodes(
    node_count: int | None = None,
    nodes: str | None = None,
    node: tuple[str, ...] | list[str] = (),
    nodes_file: str | None = None,
) -> list[str]:
    """Node ids from Maelstrom's options, with its precedence.

    --node-count N gives n0..n{N-1} and overrides the rest (Maelstrom's
    parse-node-count); otherwise the lines of --nodes-file, then --nodes
    (comma-separated), then each -n/--node, as Jepsen's parse-nodes joins them;
    with none of them, Jepsen's default n1..n5.
    """
    if node_count is not None:
        return [f"n{i}" for i in range(node_count)]
    ids: list[str] = []
    if nodes_file is not None:
        try:
            text = Path(nodes_file).read_text()
        except OSError as exc:
            raise RunError(f"--nodes-file {nodes_file}: {exc.strerror or exc}") from None
        ids += [line.strip() for line in text.splitlines() if line.strip()]
    if nodes is not None:
        ids += [name for name in re.split(r",\s*", nodes.strip()) if name]
    ids += list(node)
    return ids if (nodes is not None or nodes_file is not None or node) else list(DEFAULT_NODES)


@dataclass
class TestOptions:
    """Everything that determines a run; saved as config.json and enough to replay it.

    These defaults are `distlab test`'s too (the CLI reads them from here); its few
    deliberate differences are CLI_DEFAULTS in distlab/cli/shared.py.
    """

    __test__ = False  # not a pytest test class, despite the name

    workload: str
    bin: str
    bin_args: list[str] = field(default_factory=list)
    node_count: int = 5
    nodes: list[str] | None = None  # explicit node ids (--nodes); None: n0..n{node_count-1}
    time_limit: float = 60.0
    rate: float = 5.0  # 0: no client operations, only faults and the final phase (Maelstrom's gen/sleep)
    concurrency: str = "1n"
    latency: float | None = None  # ms, mean server-to-server latency; None: not given (see jitter)
    latency_dist: str = "constant"
    jitter: float | None = None
    """ms: mean of the default delay used when latency is None (simulator only); validate()
    fills it in, so config.json records it and a replay uses the same one."""
    loss: float = 0.0
    duplication: float = 0.0
    reorder: float = 0.0
    """--mode net only: the share of packets sent at once while the rest wait out --latency
    (netem's reorder); in the simulator a --latency that varies reorders messages already."""
    nemesis: list[str] = field(default_factory=list)
    nemesis_interval: float = 10.0
    # "stagger": Jepsen's, as `distlab test` runs it; "fixed": every interval exactly, the
    # earlier schedule, which runs recorded without this key and the tuned scenarios use
    nemesis_schedule: str = "fixed"
    # faults the schedule must include whatever the seed (distlab.nemesis.schedule.ENSURES):
    # what a scenario's own check needs, so that another seed is another schedule, not a
    # run without the fault; empty: the schedule as the seed draws it
    nemesis_ensure: list[str] = field(default_factory=list)
    availability: str | None = None
    topology: str = "grid"
    consistency_models: list[str] = field(default_factory=list)
    max_txn_length: int = 4
    max_writes_per_key: int = 16  # Maelstrom's txn key rotation (kafka keys do not rotate yet)
    key_count: int | None = None
    op_timeout: float = 5.0
    seed: int = 0
    mode: str = "auto"  # sim for Python SDK nodes, process for anything else; net: namespaces + TCP
    max_memory_mb: int | None = 2048
    max_open_files: int | None = 1024
    max_cpu_seconds: int | None = None
    log_stderr: bool = False
    log_net_send: bool = False  # copy each message to stderr as it is sent
    log_net_recv: bool = False  # ... and as it is received
    no_trace: bool = False  # write no messages.jsonl (long campaigns); counts and verdicts are unchanged
    metrics_addr: str | None = None  # HOST:PORT serving /metrics while a process or net run goes on
    fail: list[str] = field(default_factory=list)
    """Fail points for the run (--fail, repeatable): ``[NODE/]NAME=ACTIONS`` as
    distlab.fail.parse_run_spec reads it; recorded, so a replay injects the same failures."""
    store: str = "store"

    def __post_init__(self) -> None:
        if self.nodes is not None:  # explicit ids decide the count (config.json keeps both)
            self.nodes = list(self.nodes)
            self.node_count = len(self.nodes)

    def node_ids(self) -> list[str]:
        """The cluster's node ids: --nodes as given, else n0..n{N-1}."""
        if self.nodes is not None:
            return list(self.nodes)
        return [f"n{i}" for i in range(self.node_count)]

    def worker_count(self) -> int:
        spec = str(self.concurrency).strip()
        try:
            n = int(spec[:-1]) * self.node_count if spec.endswith("n") else int(spec)
        except ValueError:
            raise RunError(f"--concurrency {spec!r}: use an integer, or one ending in n (per node)") from None
        if n < 1:
            raise RunError(f"--concurrency {spec!r} gives {n} clients; need at least 1")
        return n

    def required_availability(self) -> float | None:
        if self.availability is None:
            return None
        if self.availability == "total":
            return 1.0
        try:
            value = float(self.availability)
        except ValueError:
            raise RunError(f"--availability {self.availability!r}: use 'total' or a fraction") from None
        if not 0 <= value <= 1:
            raise RunError(f"--availability {value} is not a fraction in [0, 1]")
        return value

    def _validate_nodes(self) -> None:
        if self.nodes is None:
            if self.node_count < 1:
                raise RunError("--node-count must be at least 1")
            return
        self.node_count = len(self.nodes)
        if not self.nodes:
            raise RunError("--nodes: give at least one node id")
        seen: set[str] = set()
        for name in self.nodes:
            if not isinstance(name, str) or not NODE_ID.fullmatch(name):
                raise RunError(f"--nodes: {name!r} is not a usable node id (letters, digits, '.', '_', '-')")
            if name in SERVICE_IDS or CLIENT_ID.fullmatch(name):
                raise RunError(f"--nodes: {name!r} is the id of a {'service' if name in SERVICE_IDS else 'client'}")
            if name in seen:
                raise RunError(f"--nodes: {name!r} appears twice")
            seen.add(name)

    def validate(self) -> None:
        self._validate_nodes()
        if self.time_limit <= 0:
            raise RunError("--time-limit must be positive")
        if self.rate < 0:
            raise RunError("--rate can't be negative (0: no client operations)")
        if self.max_writes_per_key < 1:
            raise RunError("--max-writes-per-key must be positive")
        if self.op_timeout <= 0:
            raise RunError("--op-timeout must be positive")
        if self.nemesis_interval <= 0:
            raise RunError("--nemesis-interval must be positive")
        if self.nemesis_schedule not in SCHEDULES:
            raise RunError(f"--nemesis-schedule {self.nemesis_schedule}: use {' or '.join(SCHEDULES)}")
        if self.mode not in ("auto", "sim", "process", "net"):
            raise RunError(f"--mode {self.mode}: use sim, process or net")
        self.worker_count()
        self.required_availability()
        if self.latency is not None and self.jitter:
            raise RunError("jitter is the delay used without --latency; set one or the other")
        try:
            Latency((self.latency or 0.0) / 1000, self.latency_dist)
            Latency((self.jitter or 0.0) / 1000, "exponential")
            Network(random.Random(0), loss=self.loss, duplication=self.duplication)
            self.nemesis = parse_kinds(self.nemesis)
            why = ensure_problem(list(self.nemesis_ensure), self.nemesis, self.nemesis_schedule)
            if why is not None:
                raise ValueError(why)
            load_workload(self.workload)
        except ValueError as exc:
            raise RunError(str(exc)) from None
        path = Path(self.bin)
        if not path.is_file():
            raise RunError(f"--bin {self.bin}: no such file")
        self.mode = self.resolved_mode()
        self.jitter = self.resolved_jitter()
        self._validate_reorder()
        if self.mode == "sim" and path.suffix != ".py":
            raise RunError(f"--bin {self.bin}: the simulator runs Python SDK nodes (a .py file); use --mode process")
        capabilities = CAPABILITIES[self.mode]
        if self.mode == "net":
            capabilities = self._net_capabilities()
        why = unsupported(self.nemesis, capabilities)
        if why is not None:
            raise RunError(why)
        if self.mode in ("process", "net"):
            self.command()
        self._validate_metrics_addr()
        self.fail_points()

    def fail_points(self) -> list[tuple[str, str]]:
        """--fail as (``[NODE/]NAME``, actions) pairs; RunError naming a bad one."""
        from distlab import fail

        try:
            return [pair for spec in self.fail
                    for pair in fail.parse_run_spec(spec, self.node_ids(), self.resolved_mode() == "sim")]
        except fail.FailPointError as exc:
            raise RunError(str(exc)) from None

    def node_failpoints_env(self, node_id: str) -> str:
        """FAILPOINTS for one node process's first start: its own points (scope dropped) and
        the unscoped ones, its own winning (the runner carries counts over restarts)."""
        from distlab import fail

        return ";".join(f"{name}={actions}" for name, actions in fail.node_points(self.fail_points(), node_id))

    def _validate_metrics_addr(self) -> None:
        """--metrics-addr: a HOST:PORT, and only where a run takes real time (a simulated
        run is over in an instant; its metrics.prom has the same series)."""
        if self.metrics_addr is None:
            return
        from distlab.runmetrics import parse_addr

        try:
            parse_addr(self.metrics_addr)
        except ValueError as exc:
            raise RunError(str(exc)) from None
        if self.mode == "sim":
            raise RunError("--metrics-addr serves /metrics during process and net runs; a simulated run "
                           "writes the same metrics to metrics.prom in its run directory")

    def _validate_reorder(self) -> None:
        """--reorder is the kernel's (netem's definition): net mode, and a delay to overtake."""
        if not self.reorder:
            return
        if not 0.0 <= self.reorder <= 1.0:
            raise RunError(f"--reorder {self.reorder} is not a fraction in [0, 1]")
        if self.mode != "net":
            raise RunError("--reorder is made by the kernel: --mode net only (in the simulator, a --latency-dist "
                           "other than constant reorders messages)")
        if not self.latency:
            raise RunError("--reorder needs --latency: a share of packets is sent at once, overtaking the delayed rest")

    def _net_capabilities(self) -> frozenset[str]:
        """--mode net: one clear line (a RunError) where this machine cannot build namespaces,
        or cannot make the delay or duplication asked for (tc netem, else the NFQUEUE shaper
        and nftables dup); what the kernel offers decides which faults and options are available."""
        from distlab.runtime.net.kernel import INSTALL_HINT, NetUnavailable, probe

        try:
            found = probe()
        except NetUnavailable as exc:
            raise RunError(str(exc)) from None
        can_delay = found["netem"] or found["shaper"]
        can_duplicate = found["netem"] or found["dup"]
        if self.latency and not can_delay:
            raise RunError(f"--mode net: --latency needs tc netem or the NFQUEUE shaper; this kernel has no netem "
                           f"and {found['shaper_problem']} ({INSTALL_HINT})")
        if self.duplication and not can_duplicate:
            raise RunError("--mode net: --duplication needs tc netem or nftables dup, and this kernel has neither "
                           "(--loss works: nftables drops packets)")
        return CAPABILITIES["net"] | {name for name, ok in (("netem", found["netem"]), ("kernel-delay", can_delay),
                                                            ("kernel-duplication", can_duplicate)) if ok}
    def resolved_jitter(self) -> float:
        """The default delay's mean (ms): only in the simulator, only without --latency.

        Real processes interleave by themselves; an explicit --latency (0 too) is
        taken as given, so runs that set it are what they always were.
        """
        if self.latency is not None:
            return 0.0
        if self.jitter is not None:
            return self.jitter
        return DEFAULT_JITTER_MS if self.resolved_mode() == "sim" else 0.0

    def network(self, rng: random.Random) -> Network:
        """The run's network model: --latency as given, or else the default jitter."""
        if self.resolved_mode() == "net":  # the kernel makes the faults: see distlab.runtime.net.kernel
            from distlab.runtime.net.kernel import KernelNetwork

            return KernelNetwork(rng, Latency((self.latency or 0.0) / 1000, self.latency_dist),
                                 loss=self.loss, duplication=self.duplication, reorder=self.reorder)
        jitter = self.resolved_jitter()
        if jitter:
            latency, fifo = Latency(jitter / 1000, "exponential"), True
        else:
            latency, fifo = Latency((self.latency or 0.0) / 1000, self.latency_dist), False
        return Network(rng, latency=latency, loss=self.loss, duplication=self.duplication, fifo=fifo)

    def delay_text(self) -> str:
        """What delay server messages get, in words (for the summary and results.json)."""
        if self.resolved_mode() == "net":
            if not self.latency:
                return "none added (the kernel's own: TCP between namespaces)"
            from distlab.runtime.net.kernel import NetUnavailable, probe

            try:
                how = "tc netem" if probe()["netem"] else "NFQUEUE shaper"
            except NetUnavailable:
                how = "the kernel"
            reorder = f", {self.reorder:.0%} sent at once (reordered)" if self.reorder else ""
            return f"{how}: {self.latency_dist}, mean {self.latency:g} ms{reorder}"
        if self.latency is None:
            jitter = self.resolved_jitter()
            if jitter:
                return f"default: exponential, mean {jitter:g} ms, in order per link"
            return "default: none added (real processes)"
        if self.latency == 0:
            return "none (--latency 0)"
        return f"{self.latency_dist}, mean {self.latency:g} ms"

    def resolved_mode(self) -> str:
        """auto: the simulator for a Python file that uses distlab's SDK, real processes otherwise."""
        if self.mode != "auto":
            return self.mode
        path = Path(self.bin)
        if path.suffix == ".py":
            try:
                text = path.read_text(errors="replace")
            except OSError:
                return "process"
            if SDK_IMPORT.search(text):
                return "sim"
        return "process"

    def command(self) -> list[str]:
        """The command line of one node process: a .py file runs with this Python."""
        path = Path(self.bin).resolve()
        if path.suffix == ".py":
            return [sys.executable, str(path), *self.bin_args]
        if not os.access(path, os.X_OK):
            raise RunError(f"--bin {self.bin}: not executable (chmod +x it, or give a .py file)")
        return [str(path), *self.bin_args]
