"""Delay, jitter and reordering of one namespace's egress, for kernels without tc netem.

Run inside a node's namespace by `kernel.Fabric` (never by hand):

    ip netns exec NS python -m distlab.runtime.net.shaper --queue 7 --seed 3 --fabric TAG

An iptables rule in that namespace (`OUTPUT -o eth0 -j NFQUEUE --queue-num 7`)
hands every packet leaving eth0 to the kernel's nfnetlink queue; this process
reads only its metadata (COPY_META, the payload stays in the kernel) and gives
the ACCEPT verdict when the packet's delay is up. Until then the packet is held
by the kernel, exactly where netem would hold it, so what the nodes see is a
slower network, not a slower peer. One loop serves the queue's socket, stdin and
a heap of due times (no thread or timer per packet), so the shaper is as
deterministic as its seeded RNG: the delay is drawn from the run's `Latency`
(constant, uniform or exponential, as the simulator draws it), and with
`reorder` a share of packets is sent at once while the rest wait (netem's
definition: reordering needs a delay to reorder against).

Control is JSON lines on stdin, so the harness can change the delay mid-run:
``{"latency_ms": 40, "dist": "uniform", "reorder": 0.25}`` answers ``{"ok": true}``,
``{"stats": true}`` answers the counts. End of stdin (the harness closing the
fabric, or dying) or SIGTERM releases every held packet and exits.

Why no ``--queue-bypass`` on the rule: with it, a dead shaper lets packets
through undelayed, and a run would go on claiming a delay it no longer has,
which is the silent failure a fault injector must never have. Without it, a
dead shaper's packets are dropped by the kernel (a blackhole, as loud as a
partition), and the harness watches each shaper's pidfd and ends the run with
one line naming the node whose shaper died, so the blackhole never passes for a
fault the run chose.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import json
import os
import random
import selectors
import signal
import sys
import time
from typing import Any

from distlab.runtime.network import Latency

QUEUE_MAX = 20_000
"""Packets the kernel may hold for us at once; beyond that it drops them (counted as loss by TCP)."""


class Shaper:
    """The decisions and the held packets; the queue's callback and the loop feed it."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.latency = Latency()
        self.reorder = 0.0
        self.held: list[tuple[float, int, Any]] = []
        self.seq = 0
        self.counts = {"delayed": 0, "reordered": 0, "passed": 0, "max_held": 0}
        self.delay_total = 0.0

    def configure(self, cfg: dict[str, Any]) -> None:
        latency = Latency(float(cfg.get("latency_ms", self.latency.mean * 1000)) / 1000,
                          str(cfg.get("dist", self.latency.dist)))
        reorder = float(cfg.get("reorder", self.reorder))
        if not 0.0 <= reorder <= 1.0:
            raise ValueError(f"reorder must be in [0, 1], not {reorder}")
        self.latency, self.reorder = latency, reorder

    def arrive(self, pkt: Any, now: float) -> None:
        """One packet left a socket: send it at once or hold it until its delay is up."""
        if self.latency.mean == 0:
            self.counts["passed"] += 1
            pkt.accept()
            return
        if self.reorder and self.rng.random() < self.reorder:
            self.counts["reordered"] += 1
            pkt.accept()
            return
        delay = self.latency.sample(self.rng)
        self.counts["delayed"] += 1
        self.delay_total += delay
        self.seq += 1
        heapq.heappush(self.held, (now + delay, self.seq, pkt))
        self.counts["max_held"] = max(self.counts["max_held"], len(self.held))

    def release(self, now: float) -> float | None:
        """Accept every packet whose time has come; the seconds until the next one (None: none held)."""
        held = self.held
        while held and held[0][0] <= now:
            heapq.heappop(held)[2].accept()
        return max(0.0, held[0][0] - now) if held else None

    def release_all(self) -> None:
        while self.held:
            heapq.heappop(self.held)[2].accept()

    def stats(self) -> dict[str, Any]:
        delayed = self.counts["delayed"]
        return {**self.counts, "held": len(self.held),
                "mean_delay_ms": round(self.delay_total / delayed * 1000, 3) if delayed else 0.0}


def _reply(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m distlab.runtime.net.shaper")
    parser.add_argument("--queue", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fabric", default="", help="the fabric's tag (so leftovers can be found by it)")
    args = parser.parse_args(argv)

    from netfilterqueue import COPY_META, NetfilterQueue

    shaper = Shaper(args.seed)
    stop = False

    def on_term(signum: int, frame: Any) -> None:
        raise _Stop

    signal.signal(signal.SIGTERM, on_term)
    nfq = NetfilterQueue()
    nfq.bind(args.queue, lambda pkt: shaper.arrive(pkt, time.monotonic()), max_len=QUEUE_MAX, mode=COPY_META)
    sel = selectors.DefaultSelector()
    sel.register(nfq.get_fd(), selectors.EVENT_READ, "queue")
    stdin = sys.stdin.fileno()
    os.set_blocking(stdin, False)
    sel.register(stdin, selectors.EVENT_READ, "control")
    _reply({"ready": True, "queue": args.queue, "pid": os.getpid()})
    pending = b""
    wait: float | None = None
    try:
        while not stop:
            for key, _ in sel.select(wait):
                if key.data == "queue":
                    nfq.run(block=False)
                    continue
                try:
                    chunk = os.read(stdin, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    stop = True
                    break
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    if line.strip():
                        _control(shaper, line)
            wait = shaper.release(time.monotonic())
    except _Stop:
        pass
    finally:
        shaper.release_all()
        with contextlib.suppress(OSError):  # the harness may be gone already
            _reply({"final": shaper.stats()})
        nfq.unbind()
    return 0


class _Stop(Exception):
    """SIGTERM: leave the loop, releasing what is held."""


def _control(shaper: Shaper, line: bytes) -> None:
    try:
        cmd = json.loads(line)
        if cmd.get("stats"):
            _reply({"stats": shaper.stats()})
        else:
            shaper.configure(cmd)
            _reply({"ok": True})
    except (ValueError, TypeError, AttributeError) as exc:
        _reply({"error": str(exc)})


if __name__ == "__main__":
    raise SystemExit(main())
