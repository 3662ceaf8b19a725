"""The kernel side of a real-network run: namespaces, a bridge, veths, nftables and tc.

Each node gets a network namespace with one veth (`eth0`, 10.77.0.<2+i>/24)
whose other end sits on a bridge in the host namespace; the bridge carries no
address, so nodes reach each other and nothing else, and several runs can use
the same addresses side by side. The harness never talks to nodes over this
network (it uses each node proxy's stdin/stdout), so a fault made here hits
node-to-node traffic only, as the simulator's network model does.

Faults are the kernel's: a partition is an nftables rule in the receiver's
namespace dropping packets from the senders it holds a grudge against
(Jepsen's grudge, Jepsen's iptables way); loss is an nftables rule dropping a
random share of incoming packets (`numgen random`), so it works on kernels
without netem; delay, jitter, duplication and reordering are tc netem on each
node's egress where the kernel has the netem qdisc. Where it has not (minimal
kernels), delay, jitter and reordering are the NFQUEUE shaper (`shaper.py`: the
kernel holds each packet until the shaper's verdict) and duplication is
nftables' `dup`; `probe` finds out which.

Names carry the harness's pid (hex), so a later run can delete what a run that
was killed outright left behind (`sweep_stale`).
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from distlab.runtime.network import Latency, Network

SUBNET = "10.77.0"
PORT = 7000
NS_PREFIX = "distlab-"
_NAME = re.compile(r"^dl([0-9a-f]{6})[0-9a-f][bv]")
_NS_NAME = re.compile(r"^distlab-([0-9a-f]{6})-")
_counter = itertools.count()
_live: set[Fabric] = set()


class NetUnavailable(Exception):
    """This machine cannot build a real network (not root, no namespaces, no nft); one line says why."""


def _run(args: list[str], stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=20)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {(proc.stderr or proc.stdout).strip()}")
    return proc


SHAPER_QUEUE = 7
"""The nfnetlink queue number the shaper binds in each namespace (queues are per namespace)."""

INSTALL_HINT = "Debian: apt-get install iptables libnetfilter-queue-dev; then pip install 'distlab[net]'"

_DUP_TABLE = """table ip distlab_dup {
  counter duplicated { }
  chain output { type filter hook output priority -10; policy accept; }
}
"""
"""Duplication without netem: nftables' `dup` (ip family only) on each node's egress, before
the filter hook where the shaper's NFQUEUE rule sits, so an original and its copy are delayed
independently, as netem delays its duplicates."""

_DUP_MARK = "0x0d1"
"""The copy `dup` sends passes the output hook again; this mark (set before copying, so the copy
carries it) keeps it from being counted or chosen a second time."""


def _shaper_problem(ns: str) -> str | None:
    """Why the NFQUEUE shaper cannot run here (None: it can): iptables, the kernel's
    NFQUEUE target in a namespace, and the netfilterqueue binding."""
    if shutil.which("iptables") is None:
        return "iptables is not installed"
    try:
        import netfilterqueue  # noqa: F401
    except ImportError as exc:
        return f"the netfilterqueue package cannot be imported ({exc})"
    rule = ["ip", "netns", "exec", ns, "iptables", "-A", "OUTPUT", "-o", "eth0", "-j", "NFQUEUE",
            "--queue-num", str(SHAPER_QUEUE)]
    proc = _run(rule, check=False)
    if proc.returncode != 0:
        return f"the kernel refuses an NFQUEUE rule ({(proc.stderr or proc.stdout).strip()})"
    return None


def _kernel_offers(ns: str) -> dict[str, Any]:
    """What a scratch namespace accepts: tc netem, the NFQUEUE shaper, nftables dup."""
    netem = _run(["tc", "-n", ns, "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"],
                 check=False).returncode == 0
    why_not_shaper = _shaper_problem(ns)
    dup = _run(["ip", "netns", "exec", ns, "nft", "-f", "-"], check=False,
               stdin=_DUP_TABLE + 'add rule ip distlab_dup output oifname "lo" dup to ip daddr device "lo"\n'
               ).returncode == 0
    return {"netem": netem, "shaper": why_not_shaper is None, "shaper_problem": why_not_shaper or "", "dup": dup}


_probe_cache: dict[str, Any] = {}


def probe() -> dict[str, Any]:
    """What this machine offers; raises NetUnavailable with one line when it cannot run --mode net.

    `netem`: tc's netem qdisc (delay, jitter, reordering, duplication); `shaper`: the NFQUEUE
    shaper that delays and reorders without netem (`shaper_problem` says why not); `dup`:
    nftables' dup, which duplicates without netem. Cached per process: it creates and
    deletes a namespace to find out.
    """
    if "result" in _probe_cache:
        return _probe_cache["result"]  # type: ignore[no-any-return]
    if "error" in _probe_cache:
        raise NetUnavailable(_probe_cache["error"])
    try:
        if os.geteuid() != 0:
            raise NetUnavailable("--mode net needs root (network namespaces, nftables and tc); run as root or use --mode process")
        missing = [tool for tool in ("ip", "nft", "tc") if shutil.which(tool) is None]
        if missing:
            raise NetUnavailable(f"--mode net needs {', '.join(missing)} (Debian: apt-get install iproute2 nftables)")
        ns = f"{NS_PREFIX}{os.getpid():06x}-probe{next(_counter)}"
        try:
            _run(["ip", "netns", "add", ns])
        except RuntimeError as exc:
            raise NetUnavailable(f"--mode net: this machine does not allow network namespaces ({exc})") from None
        try:
            try:
                _run(["ip", "netns", "exec", ns, "nft", "add", "table", "inet", "distlab"])
            except RuntimeError as exc:
                raise NetUnavailable(f"--mode net: nftables does not work in a namespace here ({exc})") from None
            offers = _kernel_offers(ns)
        finally:
            _run(["ip", "netns", "del", ns], check=False)
    except NetUnavailable as exc:
        _probe_cache["error"] = str(exc)
        raise
    _probe_cache["result"] = offers
    return _probe_cache["result"]  # type: ignore[no-any-return]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale() -> list[str]:
    """Delete namespaces and links left by harnesses that no longer run; returns their names."""
    removed = []
    for line in _run(["ip", "netns", "list"], check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = _NS_NAME.match(name)
        if m and not _pid_alive(int(m.group(1), 16)):
            _run(["ip", "netns", "del", name], check=False)
            removed.append(name)
    for line in _run(["ip", "-o", "link", "show"], check=False).stdout.splitlines():
        parts = line.split(":")
        if len(parts) < 2:
            continue
        name = parts[1].strip().split("@")[0]
        m = _NAME.match(name)
        if m and not _pid_alive(int(m.group(1), 16)):
            _run(["ip", "link", "del", name], check=False)
            removed.append(name)
    return removed


def leftovers(tag: str) -> list[str]:
    """Namespaces and links of one fabric that still exist (for tests: none after close)."""
    found = [ln.split()[0] for ln in _run(["ip", "netns", "list"], check=False).stdout.splitlines()
             if ln.split() and ln.split()[0].startswith(f"{NS_PREFIX}{tag}-")]
    for line in _run(["ip", "-o", "link", "show"], check=False).stdout.splitlines():
        parts = line.split(":")
        if len(parts) >= 2 and parts[1].strip().startswith(f"dl{tag}"):
            found.append(parts[1].strip().split("@")[0])
    return found


_TABLE = """table inet distlab {
  counter partitioned { }
  counter lost { }
  chain input { type filter hook input priority 0; policy accept; }
}
"""


@dataclass
class Fabric:
    """One run's network: a bridge, and per node a namespace, a veth pair and an address."""

    node_ids: list[str]
    netem: bool = False
    shaper: bool = False  # the NFQUEUE shaper can delay and reorder (used where netem is missing)
    dup: bool = False  # nftables dup can duplicate (used where netem is missing)
    seed: int = 0  # the shapers' RNGs: node i's is seeded with (seed, i)
    tag: str = ""
    namespaces: dict[str, str] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)
    shapers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    on_shaper: Callable[[str, subprocess.Popen[bytes]], None] | None = None
    """Called with each shaper started, so the harness can watch it (NetCluster ends the run if one dies)."""
    closing: bool = False
    _grudge: dict[str, frozenset[str]] = field(default_factory=dict)
    _loss: float = 0.0
    _netem_args: list[str] = field(default_factory=list)
    _shaper_cfg: dict[str, Any] = field(default_factory=dict)
    _final: dict[str, dict[str, Any]] = field(default_factory=dict)  # each shaper's last counts
    _duplication: float = 0.0

    def __post_init__(self) -> None:
        # pid in hex (6 digits) plus one hex digit per fabric in this process: link names stay
        # within the kernel's 15 characters (dl + 7 + b/v + index).
        self.tag = self.tag or f"{os.getpid():06x}{next(_counter) % 16:x}"
        self.bridge = f"dl{self.tag}b"
        for i, node in enumerate(self.node_ids):
            self.namespaces[node] = f"{NS_PREFIX}{self.tag[:6]}-{self.tag[6:]}-{i}"
            self.addresses[node] = f"{SUBNET}.{2 + i}"

    # ----- lifecycle --------------------------------------------------------------------
    def setup(self) -> None:
        """Build it all; on any failure, remove what was built and raise RuntimeError."""
        if len(self.node_ids) > 250:
            raise RuntimeError("--mode net supports at most 250 nodes (one /24)")
        sweep_stale()
        _live.add(self)
        try:
            _run(["ip", "link", "add", self.bridge, "type", "bridge"])
            _run(["ip", "link", "set", self.bridge, "up"])
            for i, node in enumerate(self.node_ids):
                ns, veth = self.namespaces[node], f"dl{self.tag}v{i}"
                _run(["ip", "netns", "add", ns])
                _run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns])
                _run(["ip", "link", "set", veth, "master", self.bridge, "up"])
                _run(["ip", "-n", ns, "addr", "add", f"{self.addresses[node]}/24", "dev", "eth0"])
                _run(["ip", "-n", ns, "link", "set", "eth0", "up"])
                _run(["ip", "-n", ns, "link", "set", "lo", "up"])
                self._nft(node, _TABLE)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop the shapers, then delete every namespace (which takes its veth pair along) and
        the bridge. Idempotent."""
        self.closing = True
        self._stop_shapers()
        for ns in self.namespaces.values():
            _run(["ip", "netns", "del", ns], check=False)
        _run(["ip", "link", "del", self.bridge], check=False)
        for i in range(len(self.node_ids)):  # a veth whose namespace was never made
            _run(["ip", "link", "del", f"dl{self.tag}v{i}"], check=False)
        _live.discard(self)

    def __hash__(self) -> int:
        return hash(self.tag)

    def exec_prefix(self, node: str) -> list[str]:
        """Prepended to a command to run it inside the node's namespace."""
        return ["ip", "netns", "exec", self.namespaces[node]]

    def _nft(self, node: str, script: str) -> None:
        _run(["ip", "netns", "exec", self.namespaces[node], "nft", "-f", "-"], stdin=script)

    # ----- faults -----------------------------------------------------------------------
    def apply_rules(self, grudge: dict[str, frozenset[str]] | None = None, loss: float | None = None) -> None:
        """Rewrite each node's input chain: drop packets from its grudge's senders, and a share `loss` of the rest."""
        if grudge is not None:
            self._grudge = grudge
        if loss is not None:
            self._loss = loss
        for node in self.node_ids:
            lines = ["flush chain inet distlab input"]
            senders = sorted(self.addresses[s] for s in self._grudge.get(node, ()) if s in self.addresses)
            if senders:
                lines.append(f"add rule inet distlab input ip saddr {{ {', '.join(senders)} }} counter name partitioned drop")
            if self._loss > 0:
                threshold = round(self._loss * 1_000_000)
                chance = f"numgen random mod 1000000 < {threshold} " if threshold < 1_000_000 else ""
                lines.append(f'add rule inet distlab input iifname "eth0" {chance}counter name lost drop')
            self._nft(node, "\n".join(lines) + "\n")

    def set_netem(self, latency: Latency, duplication: float = 0.0, reorder: float = 0.0) -> None:
        """Delay (with jitter), duplication and reordering of every node's egress: tc netem where
        the kernel has it, else the NFQUEUE shaper (delay, reordering) and nftables dup
        (duplication). Nothing to set clears it."""
        if not self.netem:
            self._shape(latency, reorder)
            self._set_dup(duplication)
            return
        args: list[str] = []
        ms = latency.mean * 1000
        if ms > 0:
            args += ["delay", f"{ms:.3f}ms"]
            if latency.dist != "constant":  # netem's jitter is uniform: exponential is approximated by it
                args += [f"{ms:.3f}ms"]
            if reorder > 0:
                args += ["reorder", f"{reorder * 100:.3f}%"]
        if duplication > 0:
            args += ["duplicate", f"{duplication * 100:.3f}%"]
        if args == self._netem_args:
            return
        for node in self.node_ids:
            ns = self.namespaces[node]
            if args:
                _run(["tc", "-n", ns, "qdisc", "replace", "dev", "eth0", "root", "netem", *args])
            elif self._netem_args:
                _run(["tc", "-n", ns, "qdisc", "del", "dev", "eth0", "root"], check=False)
        self._netem_args = args

    # ----- without netem: the shaper and nftables dup ------------------------------------
    def _shape(self, latency: Latency, reorder: float) -> None:
        """Give every node's shaper the delay (starting the shapers the first time one is needed)."""
        cfg = {"latency_ms": latency.mean * 1000, "dist": latency.dist, "reorder": reorder}
        if latency.mean == 0:
            cfg = {"latency_ms": 0.0, "dist": "constant", "reorder": 0.0}
        if cfg == self._shaper_cfg or (latency.mean == 0 and not self.shapers):
            return
        if not self.shaper:
            raise RuntimeError(f"--mode net: delay and reordering need tc netem or the NFQUEUE shaper, "
                               f"and this machine has neither ({INSTALL_HINT})")
        for node in self.node_ids:
            if node not in self.shapers:
                self._start_shaper(node)
            reply = self._ask(node, cfg)
            if not reply.get("ok"):
                raise RuntimeError(f"the delay shaper of {node} refused {cfg}: {reply.get('error', reply)}")
        self._shaper_cfg = cfg

    def _start_shaper(self, node: str) -> None:
        """Start the node's shaper, wait until its queue is bound, then route eth0's egress to it
        (in that order: an NFQUEUE rule with nobody bound drops what it queues)."""
        index = self.node_ids.index(node)
        proc = subprocess.Popen(
            [*self.exec_prefix(node), sys.executable, "-m", "distlab.runtime.net.shaper",
             "--queue", str(SHAPER_QUEUE), "--seed", str(self.seed * 1009 + index), "--fabric", self.tag],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
            start_new_session=True,  # a Ctrl-C to the harness's group reaches it only through close()
        )
        self.shapers[node] = proc
        ready = self._read_reply(node, timeout=20.0)
        if not ready.get("ready"):
            raise RuntimeError(f"the delay shaper of {node} did not start: {ready.get('error', ready)}")
        _run([*self.exec_prefix(node), "iptables", "-A", "OUTPUT", "-o", "eth0", "-j", "NFQUEUE",
              "--queue-num", str(SHAPER_QUEUE)])
        if self.on_shaper is not None:
            self.on_shaper(node, proc)

    def _ask(self, node: str, cmd: dict[str, Any]) -> dict[str, Any]:
        proc = self.shapers[node]
        try:
            proc.stdin.write(json.dumps(cmd).encode() + b"\n")  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
        except OSError:
            return {"error": self.shaper_end(node)}
        return self._read_reply(node)

    def _read_reply(self, node: str, timeout: float = 5.0) -> dict[str, Any]:
        """The shaper's next stdout line as JSON; an {"error": ...} if it ends or stays silent."""
        proc = self.shapers[node]
        out = proc.stdout
        assert out is not None
        ready, _, _ = select.select([out], [], [], timeout)
        line = out.readline() if ready else b""
        if not line:
            return {"error": self.shaper_end(node) if ready else f"no answer in {timeout:g} s"}
        try:
            reply = json.loads(line)
        except ValueError:
            return {"error": f"unreadable line {line[:200]!r}"}
        return reply if isinstance(reply, dict) else {"error": repr(reply)}

    def shaper_end(self, node: str) -> str:
        """How a shaper ended, in words (its exit and the last line it wrote to stderr)."""
        proc = self.shapers[node]
        try:
            code = proc.wait(2.0)
        except subprocess.TimeoutExpired:
            return "it stopped answering"
        how = f"signal {-code}" if code < 0 else f"status {code}"
        last = ""
        if proc.stderr is not None:
            with contextlib.suppress(OSError, ValueError):
                os.set_blocking(proc.stderr.fileno(), False)
                lines = [ln for ln in (proc.stderr.read() or b"").decode(errors="replace").splitlines() if ln.strip()]
                last = f": {lines[-1].strip()}" if lines else ""
        return f"exited ({how}){last}"

    def _stop_shapers(self) -> None:
        """End of stdin asks each shaper to release what it holds and exit; SIGKILL what lingers."""
        for proc in self.shapers.values():
            with contextlib.suppress(OSError, ValueError):
                proc.stdin.close()  # type: ignore[union-attr]
        for node, proc in self.shapers.items():
            try:
                proc.wait(3.0)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError, IndexError):
                last = proc.stdout.read().splitlines()[-1]  # type: ignore[union-attr]  # it has exited: EOF
                self._final[node] = json.loads(last)["final"]
            for stream in (proc.stdout, proc.stderr):
                with contextlib.suppress(OSError, ValueError):
                    stream.close()  # type: ignore[union-attr]
        self.shapers.clear()

    def _set_dup(self, duplication: float) -> None:
        """nftables dup of a share of each node's egress packets (counted as `duplicated`)."""
        if duplication == self._duplication:
            return
        if duplication > 0 and not self.dup:
            raise RuntimeError(f"--mode net: duplication needs tc netem or nftables dup, and this kernel has "
                               f"neither ({INSTALL_HINT})")
        threshold = round(duplication * 1_000_000)
        chance = f"numgen random mod 1000000 < {threshold} " if threshold < 1_000_000 else ""
        for node in self.node_ids:
            lines = [_DUP_TABLE, "flush chain ip distlab_dup output"]  # the table: added once, kept
            if threshold > 0:
                lines.append(f'add rule ip distlab_dup output oifname "eth0" meta mark != {_DUP_MARK} {chance}'
                             f'meta mark set {_DUP_MARK} counter name duplicated dup to ip daddr device "eth0"')
            self._nft(node, "\n".join(lines) + "\n")
        self._duplication = duplication

    # ----- what the kernel counted --------------------------------------------------------
    def stats(self) -> dict[str, dict[str, int]]:
        """Per node: packets nftables dropped for partitions and for loss, TCP segments retransmitted,
        and where the run used them, packets nftables duplicated and packets the shaper delayed
        or sent at once (reordered)."""
        out = {}
        for node in self.node_ids:
            ns = self.namespaces[node]
            counters = _run(["ip", "netns", "exec", ns, "nft", "list", "counters"], check=False).stdout
            found = dict(re.findall(r"counter (\w+) \{\s*packets (\d+)", counters))
            snmp = _run(["ip", "netns", "exec", ns, "cat", "/proc/net/snmp"], check=False).stdout
            out[node] = {
                "packets_dropped_partition": int(found.get("partitioned", 0)),
                "packets_dropped_loss": int(found.get("lost", 0)),
                "tcp_retransmits": _snmp(snmp, "Tcp", "RetransSegs"),
            }
            if "duplicated" in found:
                out[node]["packets_duplicated"] = int(found["duplicated"])
            shaped = self._ask(node, {"stats": True}).get("stats") if node in self.shapers else self._final.get(node)
            if shaped:
                out[node]["packets_delayed"] = int(shaped.get("delayed", 0))
                out[node]["packets_reordered"] = int(shaped.get("reordered", 0))
        return out


def _snmp(text: str, proto: str, name: str) -> int:
    rows = [line.split() for line in text.splitlines() if line.startswith(proto + ":")]
    if len(rows) >= 2 and name in rows[0]:
        return int(rows[1][rows[0].index(name)])
    return 0


@atexit.register
def _close_all() -> None:
    """A harness that exits without closing its cluster (an exception, Ctrl-C) still cleans up."""
    for fabric in list(_live):
        with contextlib.suppress(Exception):
            fabric.close()


class KernelNetwork(Network):
    """The run's network model in --mode net: faults go to the kernel, the harness adds none.

    The nemesis and the options act on a `Network`; this one passes partitions and
    loss to the run's `Fabric` (nftables) and delay and duplication to tc netem, or
    where the kernel has no netem, to the NFQUEUE shaper and nftables dup, while the
    harness's own traffic (clients, services) is delivered at once.
    """

    def __init__(self, rng: random.Random, latency: Latency | None = None, loss: float = 0.0,
                 duplication: float = 0.0, reorder: float = 0.0) -> None:
        super().__init__(rng)
        self.kernel_latency = latency or Latency()
        self.kernel_loss = loss
        self.kernel_duplication = duplication
        self.kernel_reorder = reorder
        self._baseline_kernel = (self.kernel_loss, self.kernel_duplication)
        self.fabric: Fabric | None = None

    def attach(self, fabric: Fabric) -> None:
        """Start the kernel faults the run's options ask for (--latency, --reorder, --loss, --duplication)."""
        self.fabric = fabric
        self._apply_loss()

    def _apply_loss(self) -> None:
        if self.fabric is None:
            return
        self.fabric.apply_rules(loss=self.kernel_loss)
        can_duplicate = self.fabric.netem or self.fabric.dup  # else the loss nemesis only loses
        self.fabric.set_netem(self.kernel_latency, self.kernel_duplication if can_duplicate else 0.0,
                              self.kernel_reorder)

    def delays(self, src: str, dest: str) -> tuple[float, ...]:
        return (0.0,)

    def arrivals(self, src: str, dest: str, now: float) -> list[float]:
        return [now]

    def partition(self, grudge: dict[str, frozenset[str]]) -> None:
        super().partition(grudge)
        if self.fabric is not None:
            self.fabric.apply_rules(grudge=self.grudge)

    def heal(self) -> None:
        super().heal()
        if self.fabric is not None:
            self.fabric.apply_rules(grudge={})

    def set_loss(self, loss: float, duplication: float) -> None:
        """The loss fault: nftables drops `loss` of packets; duplication by netem or nftables dup."""
        super().set_loss(loss, duplication)
        self.kernel_loss, self.kernel_duplication = loss, duplication
        self._apply_loss()

    def restore_loss(self) -> None:
        super().restore_loss()
        self.kernel_loss, self.kernel_duplication = self._baseline_kernel
        self._apply_loss()

    def set_netem(self, latency: Latency, duplication: float = 0.0, reorder: float = 0.0) -> None:
        """Delay (with jitter), duplication and reordering on every node's egress (netem, or the shaper
        and dup), kept for the rest of the run (a later loss fault changes only loss and duplication)."""
        self.kernel_latency, self.kernel_duplication, self.kernel_reorder = latency, duplication, reorder
        self._apply_loss()
