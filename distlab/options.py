"""The options of a test run: validated once, saved as config.json, enough to replay it."""

from __future__ import annotations

import os
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from distlab.nemesis import parse_kinds
from distlab.runtime.network import Latency, Network
from distlab.workloads.base import load_workload

SDK_IMPORT = re.compile(r"^\s*(from\s+distlab[\s.]|import\s+distlab\b)", re.MULTILINE)


class RunError(Exception):
    """The test could not run (bad options, a node that cannot start); exit status 2."""


@dataclass
class TestOptions:
    """Everything that determines a run; saved as config.json and enough to replay it."""

    __test__ = False  # not a pytest test class, despite the name

    workload: str
    bin: str
    bin_args: list[str] = field(default_factory=list)
    node_count: int = 1
    time_limit: float = 60.0
    rate: float = 5.0
    concurrency: str = "1n"
    latency: float = 0.0  # ms, mean server-to-server latency
    latency_dist: str = "constant"
    loss: float = 0.0
    duplication: float = 0.0
    nemesis: list[str] = field(default_factory=list)
    nemesis_interval: float = 10.0
    availability: str | None = None
    topology: str = "grid"
    consistency_models: list[str] = field(default_factory=list)
    max_txn_length: int = 4
    key_count: int | None = None
    op_timeout: float = 5.0
    seed: int = 0
    mode: str = "auto"  # sim for Python SDK nodes, process for anything else
    max_memory_mb: int | None = 2048
    max_open_files: int | None = 1024
    max_cpu_seconds: int | None = None
    log_stderr: bool = False
    store: str = "store"

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

    def validate(self) -> None:
        if self.node_count < 1:
            raise RunError("--node-count must be at least 1")
        if self.time_limit <= 0:
            raise RunError("--time-limit must be positive")
        if self.rate <= 0:
            raise RunError("--rate must be positive")
        if self.op_timeout <= 0:
            raise RunError("--op-timeout must be positive")
        if self.mode not in ("auto", "sim", "process"):
            raise RunError(f"--mode {self.mode}: use sim or process")
        self.worker_count()
        self.required_availability()
        try:
            Latency(self.latency / 1000, self.latency_dist)
            Network(random.Random(0), loss=self.loss, duplication=self.duplication)
            self.nemesis = parse_kinds(self.nemesis)
            load_workload(self.workload)
        except ValueError as exc:
            raise RunError(str(exc)) from None
        path = Path(self.bin)
        if not path.is_file():
            raise RunError(f"--bin {self.bin}: no such file")
        self.mode = self.resolved_mode()
        if self.mode == "sim" and path.suffix != ".py":
            raise RunError(f"--bin {self.bin}: the simulator runs Python SDK nodes (a .py file); use --mode process")
        if self.mode == "process":
            if "clock" in self.nemesis:
                raise RunError("--nemesis clock needs the simulator: real processes read the real clock")
            self.command()

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
