"""shardctrler: the shard controller (6.824 lab 4A) as a replicated state machine on Raft.

Run: python -m distlab.systems.shardctrler.lab --list, or see tests/test_shardctrler.py.

The runtime is kvraft's (RaftHost, distlab/systems/raft/host.py): the pure Raft core ticked every
50 ms, Raft messages as `raft` bodies, the core's state in `node.storage` synced before
any message that depends on it leaves, snapshots every N applied entries; and so is the
request path (RaftService, distlab/systems/raft/service.py): requests at a follower
forwarded to the leader. The state machine is the list of configurations
(distlab/systems/shardctrler/rebalance.py: `Controller`).

Requests (JSON bodies) and replies:
  join  {"groups": {"<gid>": ["server", ...], ...}}   -> join_ok
  leave {"gids": [gid, ...]}                           -> leave_ok
  move  {"shard": s, "gid": g}                         -> move_ok
  query {"num": n}  (-1, or past the latest: latest)   -> query_ok {"config":
        {"num": n, "shards": [gid x 10], "groups": {"<gid>": [server, ...]}}}
join, leave and move may carry "client" (a clerk's id) and "seq" (its request number,
increasing): a clerk retrying a request at another server with the same pair gets it
applied once (6.824's duplicate detection). Without them, the sender and msg_id are used.
Queries are linearizable reads (ReadIndex at the leader), not log entries.

Arguments (after the file name):
  --mutant=rebuild      known-bad: rebalance by dealing every shard anew (moves too many)
  --mutant=random-ties  known-bad: break rebalancing ties at random (replicas disagree)
  --mutant=no-sessions  known-bad: no duplicate detection (a retried join applies twice)
  --snapshot-every=N    compact the log once N applied entries follow the snapshot (20)
"""

from __future__ import annotations

import sys
from typing import Any

from distlab import Node, RPCError
from distlab.systems.raft import Entry
from distlab.systems.raft.service import RaftService, apply_once, last_reply, ready, serve_raft
from distlab.systems.shardctrler.rebalance import NSHARDS, Controller, to_wire

TICK = 0.05

MALFORMED = 12


def _flag(name: str, default: str | None = None) -> str | None:
    for arg in sys.argv[1:]:
        if arg == name:
            return ""
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


MUTANT = _flag("--mutant") or ""
SNAPSHOT_EVERY = int(_flag("--snapshot-every") or 20)

node = Node()


class ShardCtrler(RaftService):
    """One replica: the Raft core (hosted by RaftHost), the configurations, the sessions,
    waiting requests (RaftService)."""

    FORWARD = "ctl_forward"
    READS = ("query",)
    LATE = "no answer from the cluster in time; the request may still apply"

    def __init__(self) -> None:
        super().__init__(node, node.node_ids, snapshot_every=SNAPSHOT_EVERY)
        self.ctl = Controller(NSHARDS, MUTANT, node.random)
        self.sessions: dict[str, list[Any]] = {}  # clerk -> [last seq applied, its reply]
        self.restore_loaded()

    # ----- the state machine -------------------------------------------------------------
    def apply(self, entry: Entry) -> None:
        """Apply one committed command once per (clerk, seq); answer whoever waits."""
        cmd = entry.command
        if cmd is None:
            return
        result = apply_once(self.sessions, cmd, self.ctl.apply, check=MUTANT != "no-sessions")
        self.answer((cmd["c"], cmd["id"]), result)

    def snapshot(self) -> dict[str, Any]:
        # copies, as kvraft's: the Raft core keeps the snapshot to send to lagging followers
        return {"configs": self.ctl.snapshot(), "sessions": {c: list(s) for c, s in self.sessions.items()}}

    def restore(self, data: dict[str, Any] | None) -> None:
        data = data or {}
        if "configs" in data:
            self.ctl.restore(data["configs"])
        self.sessions = {c: list(s) for c, s in data.get("sessions", {}).items()}

    # ----- requests ----------------------------------------------------------------------
    def read(self, cmd: dict[str, Any]) -> dict[str, Any]:
        return {"type": "query_ok", "config": to_wire(self.ctl.query(int(cmd["num"])))}

    def precheck(self, cmd: dict[str, Any]) -> dict[str, Any] | None:
        return last_reply(self.sessions, cmd) if MUTANT != "no-sessions" else None


def command(msg: Any) -> dict[str, Any]:
    """The log command for a client request, checked before it can reach any log."""
    body = msg.body
    kind = body["type"]
    try:
        if kind == "query":
            return {"op": "query", "num": int(body.get("num", -1))}
        if kind == "join":
            groups = {str(int(g)): [str(s) for s in servers] for g, servers in body["groups"].items()}
            if not groups or any(int(g) <= 0 for g in groups):
                raise ValueError("join needs at least one group, every gid > 0")
            cmd: dict[str, Any] = {"op": "join", "groups": groups}
        elif kind == "leave":
            cmd = {"op": "leave", "gids": [int(g) for g in body["gids"]]}
        else:
            shard, gid = int(body["shard"]), int(body["gid"])
            if not 0 <= shard < NSHARDS:
                raise ValueError(f"shard {shard} is not in 0..{NSHARDS - 1}")
            cmd = {"op": "move", "shard": shard, "gid": gid}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RPCError(MALFORMED, f"bad {kind} request: {exc}") from None
    cmd.update(c=str(body.get("client", msg.src)), id=int(body.get("seq", body["msg_id"])))
    return cmd


server: ShardCtrler | None = None


@node.on("init")
def start(msg: Any) -> None:
    global server
    server = ShardCtrler()


serve_raft(node, lambda: server, tick=TICK, forward=ShardCtrler.FORWARD)


async def client_request(msg: Any) -> dict[str, Any]:
    return await ready(server).submit(command(msg))


for _kind in ("join", "leave", "move", "query"):
    node.on(_kind)(client_request)


if __name__ == "__main__":
    node.run()
