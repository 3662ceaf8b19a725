"""Linearizability checker speed against Porcupine's figures on the same histories.

Prints, for the 102 etcd histories of ../shared/data/porcupine/jepsen (parsing
excluded), the total and the largest check time and their ratios to
Porcupine's (374 ms total, 139 ms largest on this machine kind), then the kv
histories c50-ok / c50-bad (Porcupine: 212 ms / 21 ms). Each figure is the
median of --runs runs; verdicts are checked against the data README.

    .venv/bin/python benchmarks/lincheck.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from distlab.checkers.linearizable import check
from distlab.history import read_history

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ETCD_LINEARIZABLE = {2, 5, 7, 18, 25, 31, 38, 45, 48, 49, 51, 53, 56, 67, 75, 76, 80, 87, 92,
                     98, 100, 101, 102}
PORCUPINE = {"total": 374.0, "largest": 139.0, "c50-ok": 212.0, "c50-bad": 21.0, "c10-ok": 1.0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    wrong: list[str] = []

    etcd = sorted((DATA / "porcupine/jepsen").glob("etcd_*.log"))
    histories = [(p, read_history(p)) for p in etcd]
    per_file: dict[str, list[float]] = {p.name: [] for p in etcd}
    totals = []
    for _ in range(args.runs):
        total = 0.0
        for path, h in histories:
            r = check(h, "cas-register")
            expect = int(path.stem.split("_")[1]) in ETCD_LINEARIZABLE
            if r.valid is not expect and path.name not in wrong:
                wrong.append(path.name)
            total += r.elapsed
            per_file[path.name].append(r.elapsed)
        totals.append(total)
    total_ms = statistics.median(totals) * 1000
    name, largest = max(((n, statistics.median(t)) for n, t in per_file.items()),
                        key=lambda x: x[1])
    largest_ms = largest * 1000
    print(f"etcd: {len(histories)} histories, median of {args.runs} runs (parsing excluded)")
    print(f"  total   {total_ms:8.1f} ms   Porcupine {PORCUPINE['total']:.0f} ms   "
          f"ratio {total_ms / PORCUPINE['total']:.2f}")
    print(f"  largest {largest_ms:8.1f} ms   Porcupine {PORCUPINE['largest']:.0f} ms   "
          f"ratio {largest_ms / PORCUPINE['largest']:.2f}   ({name})")

    for kv in ("c10-ok", "c50-ok", "c50-bad"):
        h = read_history(DATA / f"porcupine/kv/{kv}.txt")
        times = []
        for _ in range(args.runs):
            r = check(h, "kv")
            times.append(r.elapsed)
            if r.valid is not kv.endswith("-ok") and kv not in wrong:
                wrong.append(kv)
        ms = statistics.median(times) * 1000
        print(f"kv {kv:8s} {ms:8.1f} ms   Porcupine {PORCUPINE[kv]:.0f} ms   "
              f"ratio {ms / PORCUPINE[kv]:.2f}   valid={r.valid} configs={r.configs}")
    if wrong:
        print("WRONG VERDICTS:", ", ".join(wrong))
        return 1
    print("all verdicts as in data/README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
