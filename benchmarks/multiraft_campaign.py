"""Fault campaign: the Multi-Raft cluster (distlab/systems/multiraft) under TinyKV's
heaviest generic scenario, seed after seed.

    .venv/bin/python benchmarks/multiraft_campaign.py [--seeds 50] [--first 1]
        [--raft MOD:FACTORY] [--split MOD:FUNC] [--pd MOD ...] [--mutant NAME] [--follower-reads]

Each seed is one run of `generic` (distlab/systems/multiraft/lab.py) with five clients on
a 5-store cluster whose single region splits as it grows: messages lost (10%), delayed
or duplicated, a minority of stores cut off every 50 ticks, the conf changer moving a
random region's peer every 20 ticks, logs compacted every 25, one store crashing and
restarting mid-round and every store restarting after each of the three rounds. The
pieces default to distlab's own; --raft/--split/--pd plug in a learner's as region-lab
does. Printed per run and in total: operations, ok / fail / info, splits, peer moves,
leader transfers, linearizable (per key, distlab's checker), safety violations (Raft
per region group, or a piece breaking its contract), seconds. Exit status 1 on any
violation or non-linearizable history.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from distlab.systems.multiraft.cluster import SafetyViolation
from distlab.systems.multiraft.lab import generic
from distlab.systems.multiraft.pieces import ContractViolation, PieceError, Pieces, load_pieces
from distlab.systems.multiraft.suite import describe


def run_one(seed: int, pieces: Pieces | None) -> dict[str, Any]:
    """One campaign run; a violation raised mid-run is a row with its sentence."""
    t0 = time.perf_counter()
    row: dict[str, Any] = {"seed": seed, "ops": 0, "ok": 0, "fail": 0, "info": 0, "splits": 0, "moves": 0,
                           "transfers": 0, "linearizable": None, "violation": "", "kind": ""}
    try:
        r = generic("MultiRaftCampaign", seed, nclients=5, unreliable=True, crash=True, partitions=True,
                    confchange=True, split=True, snapshot=True, pieces=pieces)
    except Exception as exc:  # noqa: BLE001 - a safety or contract violation, or the learner's bug
        row["violation"] = describe(exc)
        row["kind"] = ("safety" if isinstance(exc, SafetyViolation) else
                       "contract" if isinstance(exc, ContractViolation) else "other")
    else:
        types = [h["type"] for h in r.history]
        row.update(ops=types.count("invoke"), ok=types.count("ok"), fail=types.count("fail"),
                   info=types.count("info"), splits=r.splits, moves=r.conf_changes,
                   transfers=r.cluster.transfers, linearizable=r.linearizable)
        if r.linearizable is not True:
            head = next((ln for ln in r.explanation.splitlines() if ln.startswith("cannot linearize")), "")
            row["violation"] = f"not linearizable: {head}" if r.linearizable is False else "linearizability unknown"
            row["kind"] = "linearizability"
    row["seconds"] = time.perf_counter() - t0
    return row


def _yes(v: Any) -> str:
    return {True: "yes", False: "NO"}.get(v, "?")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=50)
    p.add_argument("--first", type=int, default=1)
    p.add_argument("--raft", help="a learner's Raft factory, MODULE:NAME or FILE.py:NAME")
    p.add_argument("--split", help="a learner's split_keys, MODULE:NAME or FILE.py:NAME")
    p.add_argument("--pd", action="append", default=[], help="a learner's RegionTable and/or balance module")
    p.add_argument("--mutant", action="append", default=[], help="distlab's Raft with this classic bug")
    p.add_argument("--follower-reads", action="store_true", help="the known-bad read path")
    a = p.parse_args(argv)
    try:
        pieces = load_pieces(a.raft, a.split, a.pd, frozenset(a.mutant), a.follower_reads)
    except (PieceError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"multiraft campaign: {a.seeds} seeds from {a.first}; {pieces.describe()}")
    header = (f"{'seed':>5} {'ops':>6} {'ok':>6} {'fail':>5} {'info':>5} {'splits':>6} {'moves':>5} "
              f"{'transfers':>9} {'lin':>4} {'seconds':>8}  violation")
    print(header)
    rows = []
    started = time.perf_counter()
    for seed in range(a.first, a.first + a.seeds):
        row = run_one(seed, pieces)
        rows.append(row)
        print(f"{seed:>5} {row['ops']:>6} {row['ok']:>6} {row['fail']:>5} {row['info']:>5} {row['splits']:>6} "
              f"{row['moves']:>5} {row['transfers']:>9} {_yes(row['linearizable']):>4} {row['seconds']:>8.2f}  "
              f"{row['violation']}", flush=True)
    total = {k: sum(r[k] for r in rows) for k in ("ops", "ok", "fail", "info", "splits", "moves", "transfers")}
    bad = [r for r in rows if r["violation"]]
    linearizable = sum(1 for r in rows if r["linearizable"] is True)
    kinds = {k: sum(1 for r in rows if r["kind"] == k) for k in ("safety", "contract", "other")}
    print(f"total: {len(rows)} runs, {total['ops']} operations ({total['ok']} ok, {total['fail']} fail, "
          f"{total['info']} info), {total['splits']} splits, {total['moves']} peer moves, "
          f"{total['transfers']} leader transfers; linearizable {linearizable}/{len(rows)}, "
          f"safety violations {kinds['safety']}, contract violations {kinds['contract']}, "
          f"other failures {kinds['other']} (livelock, exception); {time.perf_counter() - started:.1f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
