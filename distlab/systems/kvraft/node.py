"""kvraft: a linearizable key/value store (lin-kv's read, write, cas) on Raft.

Run: distlab test -w lin-kv --bin distlab/systems/kvraft/node.py --node-count 5 \
         --time-limit 30 --rate 50 --concurrency 2n --nemesis partition,kill,pause

The Raft core (distlab.systems.raft) is pure; its runtime is RaftHost
(distlab/systems/raft/host.py) and the request path on it RaftService
(distlab/systems/raft/service.py), shared with the other Raft systems: a tick every 50 ms
from `node.every`, Raft messages as `raft` bodies through `node.send`, and the core's
persistent state in `node.storage`, synced before any message that depends on it goes
out. Writes and cas go through the log and are applied exactly once per
(client, msg_id): the session table (last msg_id and its reply per client) is part of
the state machine and of its snapshots. Reads use ReadIndex at the leader (a majority
confirms leadership after the read arrives; no leases). A node that is not the leader
forwards the request to the one it knows and retries until it gets an answer; it
answers error 11 only when no copy of the request can have reached any log.

Arguments (after the file name):
  --stale-reads        the known-bad variant: serve reads from local state at once
  --mutants=a,b        switch on Raft mutants by name (distlab.systems.raft.MUTANTS)
  --snapshot-every=N   compact the log once N applied entries follow the snapshot (100)
"""

from __future__ import annotations

import sys
from typing import Any

from distlab import Node
from distlab.fail import fail_point
from distlab.systems.raft import Config, Entry
from distlab.systems.raft.service import (
    RaftService,
    apply_once,
    last_reply,
    raise_error,
    ready,
    serve_raft,
)

TICK = 0.05  # seconds per Raft tick: election timeouts 0.5-1 s, heartbeats every 0.1 s

KEY_DOES_NOT_EXIST = 20
PRECONDITION_FAILED = 22
DEFINITE_RESULTS = (KEY_DOES_NOT_EXIST, PRECONDITION_FAILED)


def _flag(name: str, default: str | None = None) -> str | None:
    for arg in sys.argv[1:]:
        if arg == name:
            return ""
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


STALE_READS = _flag("--stale-reads") is not None
MUTANTS = frozenset(m for m in (_flag("--mutants") or "").split(",") if m)
SNAPSHOT_EVERY = int(_flag("--snapshot-every") or 100)

node = Node()


class KVRaft(RaftService):
    """One replica: the Raft core (hosted by RaftHost), the key/value state machine and
    the waiting requests (RaftService)."""

    FORWARD = "kv_forward"

    def __init__(self) -> None:
        super().__init__(node, node.node_ids, config=Config(mutants=MUTANTS), snapshot_every=SNAPSHOT_EVERY)
        self.kv: dict[Any, Any] = {}
        self.sessions: dict[str, list[Any]] = {}  # client -> [last msg_id, its reply]
        self.restore_loaded()

    # ----- the state machine ----------------------------------------------------------
    def apply(self, entry: Entry) -> None:
        """Apply one committed command exactly once per (client, msg_id)."""
        cmd = entry.command
        if cmd is None:
            return  # a leader's no-op
        result = apply_once(self.sessions, cmd, self.execute, then=lambda: fail_point("kvraft::after_apply"))
        self.answer((cmd["c"], cmd["id"]), result)

    def execute(self, cmd: dict[str, Any]) -> dict[str, Any]:
        key = cmd["k"]
        if cmd["op"] == "write":
            self.kv[key] = cmd["v"]
            return {"type": "write_ok"}
        if key not in self.kv:
            return _error(KEY_DOES_NOT_EXIST, f"key {key} does not exist")
        if self.kv[key] != cmd["f"]:
            return _error(PRECONDITION_FAILED, f"expected {cmd['f']}, have {self.kv[key]}")
        self.kv[key] = cmd["t"]
        return {"type": "cas_ok"}

    def read(self, cmd: dict[str, Any]) -> dict[str, Any]:
        key = cmd["k"]
        if key not in self.kv:
            return _error(KEY_DOES_NOT_EXIST, f"key {key} does not exist")
        return {"type": "read_ok", "value": self.kv[key]}

    def snapshot(self) -> dict[str, Any]:
        # copies: the Raft core keeps this object and sends it to followers that lag behind,
        # so it must not change as later commands apply (a session table ahead of the data
        # would make a follower that installs it skip commands it never applied)
        return {"kv": [[k, v] for k, v in self.kv.items()],
                "sessions": {c: list(s) for c, s in self.sessions.items()}}

    def restore(self, data: dict[str, Any] | None) -> None:
        data = data or {}
        self.kv = {k: v for k, v in data.get("kv", [])}
        self.sessions = {c: list(s) for c, s in data.get("sessions", {}).items()}

    # ----- requests -------------------------------------------------------------------
    def precheck(self, cmd: dict[str, Any]) -> dict[str, Any] | None:
        return last_reply(self.sessions, cmd)  # already applied: answer from the session table

    def definite(self, code: int) -> bool:
        return code in DEFINITE_RESULTS


def _error(code: int, text: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "text": text}


server: KVRaft | None = None


@node.on("init")
def start(msg: Any) -> None:
    global server
    server = KVRaft()


serve_raft(node, lambda: server, tick=TICK, forward=KVRaft.FORWARD)


async def client_request(msg: Any) -> dict[str, Any]:
    service = ready(server)
    body = msg.body
    if body["type"] == "read":
        cmd: dict[str, Any] = {"op": "read", "k": body["key"]}
        if STALE_READS:
            return raise_error(service.read(cmd))
    elif body["type"] == "write":
        cmd = {"op": "write", "k": body["key"], "v": body["value"]}
    else:
        cmd = {"op": "cas", "k": body["key"], "f": body["from"], "t": body["to"]}
    if cmd["op"] != "read":
        cmd.update(c=msg.src, id=body["msg_id"])
    return await service.submit(cmd)


for _kind in ("read", "write", "cas"):
    node.on(_kind)(client_request)


if __name__ == "__main__":
    node.run()
