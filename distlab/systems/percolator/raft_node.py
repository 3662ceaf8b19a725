"""Percolator over Raft groups: keys split over data groups, timestamps from an oracle group.

Run: distlab test -w txn-list-append --bin distlab/systems/percolator/raft_node.py \\
         --node-count 9 --consistency-models snapshot-isolation --time-limit 20 --rate 30 \\
         --nemesis partition,kill,pause,clock,loss
     (or -w txn-rw-register)

The layout (raft_groups.Layout) comes from the node ids seen at init: groups of
consecutive nodes, the last one the timestamp oracle "T", the others data groups "A",
"B", ... each owning the keys whose hash falls to it (9 nodes: A = n0-n2, B = n3-n5,
T = n6-n8; at least 3 nodes, at least 9 for every group to survive a fault). Each data
group replicates a percolator Server through its Raft log; the oracle group replicates
tso.Oracle's ceiling (raft_groups explains both). Raft runs as in kvraft: 50 ms ticks,
state in node.storage synced before sending, snapshots every N applied entries, and
`raft {...}` trace lines tagged with the group, so every group is checked for safety.

Every node is also a transaction client: a `txn` runs client.py's protocol (begin,
reads at start_ts, buffered writes, prewrite, commit primary then secondaries, locks met
resolved by checking the primary's status), each kv_* request routed to the leader of
the key's group (retried at the next member on a timeout or a not-leader answer; a
prewrite or commit spanning groups is split per group). A txn's reply tells the truth:
txn_ok once the primary committed, error 30 (definite) when it aborted, error 0
(indefinite) when the primary's commit went unanswered.

Arguments (after the file name):
  --ttl=MS                lock TTL in ms (1500)
  --die-after-prewrite=K  every K-th writing transaction of this node stops after its
                          prewrite, as a client that dies there would: no commit, no
                          rollback, an indefinite reply; other nodes must resolve its locks
  --mutants=a,b           client.MUTANTS and raft_groups.MUTANTS, to show they are caught
  --snapshot-every=N      compact a group's log after N applied entries (100)
  --tso-clock-offsets=a,b,c  seconds added to the oracle clock of the oracle group's
                          first, second, ... member (a test hook: clocks far apart, so a
                          new oracle leader's clock may be far behind the last one's)

Log lines other nodes' tests read: "abandoned txn S after prewrite" (the hook), and
"resolve txn S: ..." each time this node settles another transaction's lock.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from distlab import Node, RPCError
from distlab.systems.percolator import client as pc
from distlab.systems.percolator import txn_request
from distlab.systems.percolator.client import (
    AsyncClient,
    RequestLost,
    ResponseLost,
    Txn,
)
from distlab.systems.percolator.raft_groups import (
    MUTANTS as GROUP_MUTANTS,
)
from distlab.systems.percolator.raft_groups import (
    READS,
    TSO_GROUP,
    WRITES,
    DataMachine,
    Layout,
    Replica,
    Router,
    TsoLeader,
    TsoMachine,
    to_wire,
)
from distlab.systems.raft import Message, NotLeader

TICK = 0.05
ATTEMPT_TIMEOUT = 0.5  # a leader waits this long for its proposal to apply
RPC_TIMEOUT = 0.6  # a client waits this long for one member's answer
CALL_DEADLINE = 2.0  # ... and this long for the group as a whole, per request
TIMEOUT, TEMPORARILY_UNAVAILABLE, TXN_CONFLICT = 0, 11, 30


def _flag(name: str, default: str = "") -> str:
    for arg in sys.argv[1:]:
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


MUTANTS = frozenset(m for m in _flag("--mutants").split(",") if m)
_unknown = MUTANTS - set(pc.MUTANTS) - set(GROUP_MUTANTS)
if _unknown:
    raise SystemExit(f"unknown mutants {sorted(_unknown)}; known: {pc.MUTANTS + GROUP_MUTANTS}")
TTL = int(_flag("--ttl", "1500"))
DIE_EVERY = int(_flag("--die-after-prewrite", "0"))
SNAPSHOT_EVERY = int(_flag("--snapshot-every", "100"))
STALE_READS = "stale-reads" in MUTANTS
TSO_CLOCK_OFFSETS = [float(x) for x in _flag("--tso-clock-offsets").split(",") if x]

node = Node()


class Member:
    """What this node serves for its group: the replica, and the oracle if it is in T."""

    def __init__(self, layout: Layout) -> None:
        assert node.id is not None
        self.group = layout.group_of_node(node.id)
        self.machine: DataMachine | TsoMachine
        if self.group == TSO_GROUP:
            self.machine = TsoMachine(mutant="tso-no-ceiling" in MUTANTS)
        else:
            self.machine = DataMachine()
        self.replica = Replica(node, self.group, layout.groups[self.group], self.machine,
                               SNAPSHOT_EVERY, TICK)
        self.tso: TsoLeader | None = None
        if isinstance(self.machine, TsoMachine):
            members = layout.groups[self.group]
            k = members.index(node.id)
            offset = TSO_CLOCK_OFFSETS[k] if k < len(TSO_CLOCK_OFFSETS) else 0.0
            self.tso = TsoLeader(node, self.replica, self.machine, "tso-no-ceiling" in MUTANTS, offset)

    def redirect(self) -> dict[str, Any]:
        return {"type": "grp_ok", "redirect": True, "leader": self.replica.core.leader_id}

    async def serve(self, body: dict[str, Any]) -> dict[str, Any]:
        """One group request at this member: answered if it leads, else a redirect."""
        rep = self.replica
        if body.get("g") != self.group:
            return self.redirect()
        if STALE_READS and body.get("m") in READS:
            assert isinstance(self.machine, DataMachine)
            return {"type": "grp_ok", "r": self.machine.read(body["m"], body["req"])}
        if not rep.serving:
            return self.redirect()
        try:
            if self.tso is not None:
                return {"type": "grp_ok", "r": await self.tso.timestamp(ATTEMPT_TIMEOUT)}
            assert isinstance(self.machine, DataMachine)
            method, req = body["m"], body["req"]
            if method in READS:
                if not await rep.read_barrier(ATTEMPT_TIMEOUT):
                    return self.redirect()
                return {"type": "grp_ok", "r": self.machine.read(method, req)}
            if method not in WRITES:
                raise RPCError(12, f"unknown method {method!r}")
            if method == "kv_commit" and "commit-without-log" in MUTANTS:
                return {"type": "grp_ok", "r": self.machine.apply({"m": method, "req": req})}
            try:
                result = await rep.propose({"m": method, "req": req}, ATTEMPT_TIMEOUT)
            except TimeoutError:
                raise RPCError(TIMEOUT, "proposed but not applied in time") from None
            return {"type": "grp_ok", "r": result}
        except NotLeader:
            return self.redirect()
        except TimeoutError:
            raise RPCError(TEMPORARILY_UNAVAILABLE, "no timestamp in time") from None


member: Member | None = None
router: Router | None = None
layout: Layout | None = None


@node.on("init")
def start(msg: Any) -> None:
    global member, router, layout
    layout = Layout.of(node.node_ids)
    member = Member(layout)
    router = Router(node, layout, RPC_TIMEOUT, CALL_DEADLINE)
    groups = ", ".join(f"{g}={'+'.join(m)}" for g, m in layout.groups.items())
    node.log(f"layout {groups}; this node is in group {member.group}")


@node.on("raft")
def on_raft(msg: Any) -> None:
    if member is None or msg.body.get("g") != member.group:
        return  # not initialised yet (restarting): the sender will retry
    member.replica.step(Message.from_dict(msg.body["m"]))


def tick() -> None:
    if member is not None:
        member.replica.tick()


node.every(TICK, tick)


@node.on("grp")
async def on_group_request(msg: Any) -> dict[str, Any]:
    if member is None:
        return {"type": "grp_ok", "redirect": True, "leader": None}
    return await member.serve(msg.body)


@node.on("raft_status")
def raft_status(msg: Any) -> dict[str, Any]:
    if member is None:
        raise RPCError(TEMPORARILY_UNAVAILABLE, "starting")
    return {"type": "raft_status_ok", "group": member.group, **member.replica.core.status()}


# ----- the transaction client ----------------------------------------------------------------


def _ready() -> tuple[Layout, Router]:
    if layout is None or router is None:
        raise RequestLost("not initialised")
    return layout, router


async def _fan_out(calls: list[tuple[str, dict[str, Any]]], writes: bool) -> list[Any]:
    """The same kind of request to several groups at once; a loss anywhere is the call's."""
    _, r = _ready()
    results = await asyncio.gather(*(r.call(g, body, writes) for g, body in calls),
                                   return_exceptions=True)
    lost = [x for x in results if isinstance(x, BaseException)]
    if any(isinstance(x, ResponseLost) for x in lost):
        raise next(x for x in lost if isinstance(x, ResponseLost))
    if lost:
        raise lost[0]
    return results


def _by_group(keys: list[Any]) -> dict[str, list[Any]]:
    lay, _ = _ready()
    out: dict[str, list[Any]] = {}
    for k in keys:
        out.setdefault(lay.group_of_key(k), []).append(k)
    return out


async def send(method: str, request: dict[str, Any]) -> dict[str, Any]:
    """client.py's transport: route one kv_* request to the groups owning its keys."""
    lay, r = _ready()
    req = to_wire(request)
    if method == "kv_get":
        return await r.call(lay.group_of_key(req["key"]), {"m": method, "req": req}, False,  # type: ignore[no-any-return]
                            anywhere=STALE_READS)
    if method == "kv_scan":
        parts = await _fan_out([(g, {"m": method, "req": req}) for g in lay.data_groups], False)
        pairs = sorted((p for part in parts for p in part["pairs"]), key=lambda p: p["key"])
        return {"pairs": pairs[: int(req["limit"])]}
    if method == "kv_check_txn_status":
        status = await r.call(lay.group_of_key(req["primary_key"]), {"m": method, "req": req}, True)
        if status.get("action") != "no_action" or status.get("commit_version"):
            node.log(f"resolve txn {req['lock_ts']}: primary {req['primary_key']} "
                     f"{status.get('action')} commit_version {status.get('commit_version')}")
        return status  # type: ignore[no-any-return]
    if method == "kv_prewrite":
        groups = _by_group([m["key"] for m in req["mutations"]])
        calls = [(g, {"m": method, "req": {**req, "mutations": [m for m in req["mutations"]
                                                                 if m["key"] in keys]}})
                 for g, keys in groups.items()]
        parts = await _fan_out(calls, True)
        return {"errors": [e for part in parts for e in part.get("errors") or []]}
    if method not in WRITES:
        raise ValueError(f"unknown method {method!r}")
    if method == "kv_resolve_lock":
        way = f"forward at {req['commit_version']}" if req.get("commit_version") else "back"
        node.log(f"resolve txn {req['start_version']}: lock rolled {way} on {req.get('keys')}")
    keys = req.get("keys") or []
    if keys:
        calls = [(g, {"m": method, "req": {**req, "keys": ks}}) for g, ks in _by_group(keys).items()]
    else:
        calls = [(g, {"m": method, "req": req}) for g in lay.data_groups]
    parts = await _fan_out(calls, True)
    errors = [p["error"] for p in parts if p.get("error")]
    return {"error": errors[0] if errors else None}


async def oracle() -> int:
    _, r = _ready()
    return int(await r.call(TSO_GROUP, {"op": "ts"}, False))


client = AsyncClient(send, oracle, asyncio.sleep, frozenset(MUTANTS & set(pc.MUTANTS)))
written = 0  # writing transactions this node has committed or tried to


def prewrite_only(txn: Txn) -> pc.Steps:
    """The first half of Txn.commit: prewrite the primary, then the secondaries."""
    keys = list(txn.writes)
    ok = yield from txn._prewrite([keys[0]], keys[0])
    if ok and keys[1:]:
        ok = yield from txn._prewrite(keys[1:], keys[0])
    return ok


async def die_after_prewrite(txn: Txn) -> None:
    """--die-after-prewrite: every K-th writing transaction stops after its prewrite."""
    global written
    if txn.writes:
        written += 1
        if DIE_EVERY and written % DIE_EVERY == 0:
            if await client.run(prewrite_only(txn)):
                node.log(f"abandoned txn {txn.start_ts} after prewrite: locks left on "
                         f"{sorted(k.decode() for k in txn.writes)}")
                raise RPCError(TIMEOUT, "the client died between prewrite and commit")
            await client.run(txn._rollback(list(txn.writes)))
            raise RPCError(TXN_CONFLICT, f"transaction {txn.start_ts} aborted in prewrite")


@node.on("txn")
async def transact(msg: Any) -> dict[str, Any]:
    return await txn_request.transact(client, msg.body["txn"], TTL, die_after_prewrite)


if __name__ == "__main__":
    node.run()
