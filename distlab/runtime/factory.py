"""One place that builds a runtime: the harness loop and the cluster for a run's --mode.

The runner asks for a (loop, cluster) pair and then speaks only the protocols in
`distlab.runtime.protocols`; a new runtime is a new branch here plus its
capabilities there.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

from distlab.options import TestOptions
from distlab.runtime.network import Network
from distlab.runtime.process.cluster import Limits, ProcessCluster
from distlab.runtime.process.loop import RealLoop
from distlab.runtime.protocols import Cluster, HarnessLoop
from distlab.runtime.sim.cluster import SimCluster
from distlab.runtime.sim.loop import VirtualLoop


def make_runtime(
    opts: TestOptions, network: Network, run_dir: Path, trace: IO[bytes] | None,
) -> tuple[HarnessLoop, Cluster]:
    """The loop and cluster for `opts.resolved_mode()`: the simulator, real processes, or
    real processes in network namespaces (--mode net).

    Node logs go to run_dir/node-logs (and, with --log-stderr, to stderr stamped
    with the loop's time); process-mode nodes work in run_dir/nodes.
    """
    log_dir = run_dir / "node-logs"
    if opts.resolved_mode() == "sim":
        sim_loop = VirtualLoop()
        sim = SimCluster(
            sim_loop,
            Path(opts.bin).resolve(),
            opts.node_ids(),
            network,
            opts.seed,
            trace=trace,
            log_dir=log_dir,
            log_stderr=_stderr_log(sim_loop) if opts.log_stderr else None,
            bin_args=opts.bin_args,
        )
        return sim_loop, sim
    if opts.resolved_mode() == "net":
        return _net_runtime(opts, network, run_dir, trace)
    real_loop = RealLoop()
    processes = ProcessCluster(
        real_loop,
        opts.command(),
        opts.node_ids(),
        network,
        work_dir=run_dir / "nodes",
        trace=trace,
        log_dir=log_dir,
        log_stderr=_stderr_log(real_loop) if opts.log_stderr else None,
        limits=Limits(opts.max_memory_mb, opts.max_open_files, opts.max_cpu_seconds),
    )
    return real_loop, processes


def _net_runtime(
    opts: TestOptions, network: Network, run_dir: Path, trace: IO[bytes] | None,
) -> tuple[HarnessLoop, Cluster]:
    """--mode net: build the namespaces and bridge first; a failure removes them and is a RunError."""
    from distlab.options import RunError
    from distlab.runtime.net.cluster import NetCluster
    from distlab.runtime.net.kernel import Fabric, KernelNetwork, NetUnavailable, probe

    if not isinstance(network, KernelNetwork):
        raise TypeError("--mode net runs need the network from TestOptions.network()")
    try:
        found = probe()
        fabric = Fabric(opts.node_ids(), netem=found["netem"], shaper=found["shaper"], dup=found["dup"],
                        seed=opts.seed)
        fabric.setup()
    except (NetUnavailable, RuntimeError) as exc:
        raise RunError(str(exc)) from None
    try:
        try:
            network.attach(fabric)  # starts the delay shapers, if the run delays packets without netem
        except RuntimeError as exc:
            raise RunError(str(exc)) from None
        real_loop = RealLoop()
        cluster = NetCluster(
            real_loop,
            opts.command(),
            opts.node_ids(),
            network,
            work_dir=run_dir / "nodes",
            fabric=fabric,
            sdk=_is_sdk_node(opts.bin),
            trace=trace,
            log_dir=run_dir / "node-logs",
            log_stderr=_stderr_log(real_loop) if opts.log_stderr else None,
            limits=Limits(opts.max_memory_mb, opts.max_open_files, opts.max_cpu_seconds),
        )
    except BaseException:
        fabric.close()
        raise
    return real_loop, cluster


def _is_sdk_node(bin_path: str) -> bool:
    """A Python file that imports distlab: it can speak TCP itself (no proxy needed)."""
    from distlab.options import SDK_IMPORT

    path = Path(bin_path)
    if path.suffix != ".py":
        return False
    try:
        return SDK_IMPORT.search(path.read_text(errors="replace")) is not None
    except OSError:
        return False


def _stderr_log(loop: HarnessLoop) -> Callable[[str, str], None]:
    """--log-stderr: each node's log lines on our stderr too, stamped with run time."""

    def log_stderr(node: str, text: str) -> None:
        sys.stderr.write(f"{loop.time():10.3f} {node} | {text}\n")

    return log_stderr
