"""Transactions checked per second by distlab.checkers.txn, and huge-scc.edn under a budget.

Seeded list-append histories come from a tiny in-memory store that runs each
transaction atomically at its completion (so the history is strict
serializable), with 10 clients whose operations overlap. The
"with anomalies" variants then make a few reads stale (drop the last element of
a read whose writer had already completed), which the checker must report.

    .venv/bin/python benchmarks/txncheck.py [--sizes 10000 100000] [--budget 10]
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path
from typing import Any

from distlab.checkers.txn import check

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "elle"


def list_append_history(
    n: int, seed: int, concurrency: int = 10, active_keys: int = 8, appends_per_key: int = 64
) -> list[dict[str, Any]]:
    """n list-append transactions, strict serializable, overlapping across clients."""
    rng = random.Random(seed)
    state: dict[int, list[int]] = {}
    next_key = active_keys
    keys = list(range(active_keys))
    counts = dict.fromkeys(keys, 0)
    history: list[dict[str, Any]] = []
    running: dict[int, list[list[Any]]] = {}
    started = 0
    while started < n or running:
        p = rng.randrange(concurrency)
        if p not in running:
            if started >= n:
                continue
            txn = []
            for _ in range(rng.randint(1, 4)):
                k = rng.choice(keys)
                if rng.random() < 0.5:
                    txn.append(["r", k, None])
                else:
                    counts[k] += 1
                    txn.append(["append", k, counts[k]])
                    if counts[k] >= appends_per_key:  # retire the key, bring a fresh one
                        keys[keys.index(k)] = next_key
                        counts[next_key] = 0
                        next_key += 1
            running[p] = txn
            started += 1
            history.append({"index": len(history), "time": len(history), "process": p,
                            "type": "invoke", "f": "txn", "value": txn})
        else:
            txn = running.pop(p)
            done = []
            for f, k, v in txn:
                if f == "r":
                    done.append([f, k, list(state.get(k, []))])
                else:
                    state.setdefault(k, []).append(v)
                    done.append([f, k, v])
            history.append({"index": len(history), "time": len(history), "process": p,
                            "type": "ok", "f": "txn", "value": done})
    return history


def inject_stale_reads(history: list[dict[str, Any]], rate: float, seed: int) -> int:
    """Drop the last element of some reads whose writer completed before the reader began."""
    rng = random.Random(seed)
    completed_at: dict[tuple[Any, Any], int] = {}  # (key, element) -> completion position
    invoked_at: dict[Any, int] = {}
    injected = 0
    for pos, rec in enumerate(history):
        if rec["type"] == "invoke":
            invoked_at[rec["process"]] = pos
            continue
        mops = rec["value"]
        own = {k for f, k, _ in mops if f == "append"}
        for mop in mops:
            f, k, v = mop
            if f == "append":
                completed_at[(k, v)] = pos
            elif v and k not in own and rng.random() < rate:
                if completed_at.get((k, v[-1]), pos) < invoked_at[rec["process"]]:
                    mop[2] = v[:-1]
                    injected += 1
    return injected


def bench(n: int, anomalies: bool, budget: float) -> None:
    h = list_append_history(n, seed=n)
    injected = inject_stale_reads(h, 0.001, seed=n) if anomalies else 0
    t0 = time.perf_counter()
    r = check(h, "list-append", ["strict-serializable"], budget=budget)
    dt = time.perf_counter() - t0
    label = f"with {injected} stale reads" if anomalies else "serializable"
    print(f"list-append {n:>7} txns, {label:<22} {dt:7.2f} s  {n / dt:>9,.0f} txn/s  "
          f"valid={r['valid']} types={r['anomaly_types']} counts={r['anomaly_counts']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--budget", type=float, default=10.0, help="cycle-search seconds")
    args = ap.parse_args()
    for n in args.sizes:
        for anomalies in (False, True):
            bench(n, anomalies, args.budget)
    path = DATA / "huge-scc.edn"
    if not path.exists():
        print(f"{path} not found; skipping")
        return
    from distlab.history import read_history

    t0 = time.perf_counter()
    h = read_history(path)
    t1 = time.perf_counter()
    r = check(h, "list-append", ["strict-serializable"], budget=args.budget)
    t2 = time.perf_counter()
    print(f"huge-scc.edn: read {t1 - t0:.2f} s, checked {t2 - t1:.2f} s "
          f"({r['stats']['txns']} txns, largest SCC {r['stats']['largest_scc']}, budget "
          f"{args.budget:g} s, search complete={r['cycle_search']['complete']}): "
          f"valid={r['valid']} "
          f"types={r['anomaly_types']} not={r['not']} also_not={r['also_not']}")
    t3 = time.perf_counter()
    tiny = check(h, "list-append", ["strict-serializable"], budget={"steps": 200})
    t4 = time.perf_counter()
    print(f"huge-scc.edn with a 200-step search budget: checked {t4 - t3:.2f} s, search "
          f"complete={tiny['cycle_search']['complete']}: valid={tiny['valid']} "
          f"types={tiny['anomaly_types']} not={tiny['not']}")
    for kind, cases in r["anomalies"].items():
        first = cases[0]
        text = first.get("explanation") or first.get("text", "")
        print(f"  {kind}:", text.replace("\n", "\n    "))


if __name__ == "__main__":
    main()
