"""Linearizability checker speed against Porcupine's on the same histories.

Prints, for the 102 etcd histories of ../shared/data/porcupine/jepsen (parsing
excluded), the total and the largest check time, then the kv histories c10-ok,
c50-ok and c50-bad, each with Porcupine's time and the ratio (below 1: distlab
is faster). Each figure is the median of --runs runs; verdicts are checked
against the data README.

Porcupine's figures are either measured in the same run, side by side, with
`--porcupine CMD`, or else the ones recorded below (RECORDED). CMD is an
executable (split like a shell command line) called as

    CMD HISTORY MODEL RUNS

with MODEL `cas-register` (an etcd log of ../shared/data/porcupine/jepsen) or
`kv` (a kv history, partitioned by key); it checks the history RUNS times with
Porcupine and prints one line per run: the check time in milliseconds (parsing
excluded), optionally followed by the verdict (`true` / `false`), which is then
checked too. The harness used for the recorded figures is Porcupine's own test
parsers and models (parseJepsenLog + etcdModel, parseKvLog + kvModel) around
porcupine.CheckEvents in a main package. Porcupine checks the kv partitions
in parallel goroutines (on both cores); distlab interleaves them on one.

    .venv/bin/python benchmarks/lincheck.py [--runs 3] [--porcupine CMD]
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from distlab.checkers.linearizable import check
from distlab.history import read_history

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ETCD_LINEARIZABLE = {2, 5, 7, 18, 25, 31, 38, 45, 48, 49, 51, 53, 56, 67, 75, 76, 80, 87, 92,
                     98, 100, 101, 102}
KV = ("c10-ok", "c50-ok", "c50-bad")
# Porcupine (newest version, commit 55508eb; Go 1.19 from Debian), measured
# with --porcupine on this machine kind (2 cores, shared), 2026-11-27: each the
# median of six side-by-side runs (--runs 5) at low load. Its c50-bad time
# varies most (15-32 ms): it stops at whichever partition goroutine fails first.
RECORDED = {"total": 410.7, "largest": 155.0, "c10-ok": 0.9, "c50-ok": 179.3, "c50-bad": 25.1}


def porcupine(cmd: list[str], path: Path, model: str, runs: int) -> tuple[list[float], bool | None]:
    """Porcupine's check times (ms) for `path`, and its verdict if it printed one."""
    out = subprocess.run([*cmd, str(path), model, str(runs)], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    lines = [line.split() for line in out if line.strip()]
    if len(lines) != runs:
        raise SystemExit(f"--porcupine printed {len(lines)} lines for {runs} runs: {out!r}")
    verdicts = {fields[1] for fields in lines if len(fields) > 1}
    verdict = None if not verdicts else verdicts == {"true"}
    return [float(fields[0]) for fields in lines], verdict


def ratio(ms: float, theirs: float | None) -> str:
    return "" if not theirs else f"   ratio {ms / theirs:.2f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--porcupine", metavar="CMD",
                    help="Porcupine harness: CMD HISTORY MODEL RUNS prints RUNS times in ms")
    args = ap.parse_args()
    cmd = shlex.split(args.porcupine) if args.porcupine else None
    runs = args.runs
    wrong: list[str] = []
    theirs: dict[str, Any] = dict(RECORDED)
    source = "measured now" if cmd else "recorded"

    etcd = sorted((DATA / "porcupine/jepsen").glob("etcd_*.log"))
    ours_runs = [[0.0] * len(etcd) for _ in range(runs)]
    their_runs = [[0.0] * len(etcd) for _ in range(runs)]
    for j, path in enumerate(etcd):
        h = read_history(path)
        expect = int(path.stem.split("_")[1]) in ETCD_LINEARIZABLE
        for i in range(runs):
            r = check(h, "cas-register")
            if r.valid is not expect and path.name not in wrong:
                wrong.append(path.name)
            ours_runs[i][j] = r.elapsed * 1000
        if cmd:
            times, verdict = porcupine(cmd, path, "cas-register", runs)
            if verdict is not None and verdict is not expect:
                wrong.append(f"Porcupine {path.name}")
            for i in range(runs):
                their_runs[i][j] = times[i]
    total = statistics.median(sum(run) for run in ours_runs)
    per_file = [statistics.median(run[j] for run in ours_runs) for j in range(len(etcd))]
    largest = max(per_file)
    name = etcd[per_file.index(largest)].name
    if cmd:
        theirs["total"] = statistics.median(sum(run) for run in their_runs)
        theirs["largest"] = max(statistics.median(run[j] for run in their_runs)
                                for j in range(len(etcd)))
    print(f"etcd: {len(etcd)} histories, median of {runs} runs (parsing excluded), "
          f"Porcupine {source}")
    print(f"  total   {total:8.1f} ms   Porcupine {theirs['total']:6.1f} ms"
          f"{ratio(total, theirs['total'])}")
    print(f"  largest {largest:8.1f} ms   Porcupine {theirs['largest']:6.1f} ms"
          f"{ratio(largest, theirs['largest'])}   ({name})")

    for kv in KV:
        path = DATA / f"porcupine/kv/{kv}.txt"
        h = read_history(path)
        times = []
        expect = kv.endswith("-ok")
        for _ in range(runs):
            r = check(h, "kv")
            times.append(r.elapsed * 1000)
            if r.valid is not expect and kv not in wrong:
                wrong.append(kv)
        if cmd:
            their, verdict = porcupine(cmd, path, "kv", runs)
            theirs[kv] = statistics.median(their)
            if verdict is not None and verdict is not expect:
                wrong.append(f"Porcupine {kv}")
        ms = statistics.median(times)
        print(f"kv {kv:8s} {ms:8.1f} ms   Porcupine {theirs[kv]:6.1f} ms{ratio(ms, theirs[kv])}"
              f"   valid={r.valid} configs={r.configs}")
    if wrong:
        print("WRONG VERDICTS:", ", ".join(wrong))
        return 1
    print("all verdicts as in data/README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
