"""shardkv: 6.824's sharded key/value store (lab 4B) on distlab's Raft, with both
challenges (garbage collection of shards handed away; serving during a migration).

One file plays every part of the cluster, chosen by the node's id in `--layout`:
  --layout=ctl=m0,m1,m2;100=a0,a1,a2;101=b0,b1,b2
"ctl" names the shard controller's servers (a Raft group whose state machine is
distlab/systems/shardctrler/rebalance.py's `Controller`); every other entry is a replica
group: its gid and its servers. The replica groups must be joined to the controller
(`join {"groups": {"100": ["a0", "a1", "a2"]}}`) before they own anything.

Each group is a Raft KV for lin-kv's read, write and cas. The key space is cut into 10
shards (`key2shard`: an integer key k is in shard k mod 10; a string key, as in 6.824, in
shard (its first byte) mod 10, the empty string in shard 0). A request carries "client"
and "seq" (a clerk's id and its request number, increasing); it goes through the group's
log, and is applied only if the group serves the key's shard at that point of the log,
else answered error 1001 ("wrong group": ask the controller for the configuration and
try the group it names) or, while the shard is on its way here, error 11 (try again).

The group's leader polls the controller every 100 ms for the configuration after its
own and puts it in the log; configurations are applied one at a time, and the next only
once every shard has finished moving. A shard that changes owner is pulled: the new
owner's leader asks the old owner's servers for it (`shard_pull`; any replica that has
applied the same configuration has the final copy: no write to it is applied after),
and logs what it got, key/values with the shard's session table, so that a request
applied by the old owner and retried at the new one is applied once. Then it asks the
old owner to delete its copy (`shard_delete`, logged there too: challenge 1) and,
once the old owner says it is gone, logs that the shard is settled. Shards are served
one by one: those a change does not touch all along, those received as soon as they are
installed (challenge 2).

So that any lin-kv client can use the cluster (`distlab test -w lin-kv`, whose clients
know nothing of shards), three more arguments:
  --route       any server takes any key: it forwards the request, with the client's id
                and msg_id as its session, to the group the latest configuration names
                (asking the controller again on error 1001), and answers what that says
  --auto-join   each group's leader joins its own group to the controller at start
  --churn=S     the controller's leader moves a random shard to a random group every S
                seconds once every group has joined: configurations change all run long

Arguments (after the file name):
  --layout=...              as above (required)
  --snapshot-every=N        compact the log once N applied entries follow the snapshot (50)
  --mutant=serve-pulling    known-bad: serve a shard's keys before its data arrived
  --mutant=no-sessions      known-bad: a shard moves without its session table
  --mutant=no-gc            known-bad: a shard handed away is never deleted
"""

from __future__ import annotations

import asyncio
import copy
import sys
from collections.abc import Callable
from typing import Any

from distlab import Node, RPCError
from distlab.systems.raft import LEADER, Entry, NotLeader
from distlab.systems.raft.service import RaftService, apply_once, last_reply, ready, serve_raft
from distlab.systems.shardctrler.rebalance import NSHARDS, Controller, to_wire

TICK = 0.05
POLL = 0.1  # a group leader's interval between looks at the controller and its shards
CLIENT_DEADLINE = 3.0
FORWARD_TIMEOUT = 1.5
PEER_TIMEOUT = 0.5  # a request to another group's server (replies take milliseconds)

TEMPORARILY_UNAVAILABLE = 11
MALFORMED = 12
KEY_DOES_NOT_EXIST = 20
PRECONDITION_FAILED = 22
WRONG_GROUP = 1001

SERVING = "serving"  # owned and here
PULLING = "pulling"  # owned in this configuration, still at the previous owner
SENDING = "sending"  # owned by another group now, kept until it has pulled the shard
SETTLING = "settling"  # received (and served); the previous owner's copy not yet deleted
KEPT = "kept"  # the no-gc mutant's leftover: handed away but never deleted


def _flag(name: str, default: str | None = None) -> str | None:
    for arg in sys.argv[1:]:
        if arg == name:
            return ""
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


def parse_layout(text: str) -> dict[str, list[str]]:
    """`ctl=m0,m1;100=a0,a1` -> {"ctl": [m0, m1], "100": [a0, a1]}."""
    out: dict[str, list[str]] = {}
    for part in text.split(";"):
        if part.strip():
            name, _, servers = part.partition("=")
            out[name.strip()] = [s.strip() for s in servers.split(",") if s.strip()]
    return out


def key2shard(key: Any) -> int:
    """6.824's key2shard for strings (first byte mod 10); an integer key k: k mod 10."""
    if isinstance(key, bool):
        key = int(key)
    if isinstance(key, int):
        return key % NSHARDS
    text = str(key)
    return text.encode()[0] % NSHARDS if text else 0


MUTANT = _flag("--mutant") or ""
SNAPSHOT_EVERY = int(_flag("--snapshot-every") or 50)
LAYOUT = parse_layout(_flag("--layout") or "")
CTL_SERVERS = LAYOUT.get("ctl", [])
ROUTE = _flag("--route") is not None
AUTO_JOIN = _flag("--auto-join") is not None
CHURN = float(_flag("--churn") or 0)

node = Node()


def _error(code: int, text: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "text": text}


# ----- the two state machines --------------------------------------------------------------
class CtlMachine:
    """The shard controller's state machine: configurations and clerks' sessions."""

    def __init__(self) -> None:
        self.ctl = Controller(NSHARDS)
        self.sessions: dict[str, list[Any]] = {}

    def is_read(self, cmd: dict[str, Any]) -> bool:
        return bool(cmd["op"] == "query")

    def read(self, cmd: dict[str, Any]) -> dict[str, Any]:
        return {"type": "query_ok", "config": to_wire(self.ctl.query(int(cmd["num"])))}

    def precheck(self, cmd: dict[str, Any]) -> dict[str, Any] | None:
        return last_reply(self.sessions, cmd)

    def apply(self, cmd: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
        return (cmd["c"], cmd["id"]), apply_once(self.sessions, cmd, self.ctl.apply)

    def snapshot(self) -> dict[str, Any]:
        # copies: the Raft core keeps this object to send to followers that lag behind, so
        # it must not change as later commands are applied (a session table that runs ahead
        # of the state would make a follower that installs it skip commands)
        return {"configs": self.ctl.snapshot(), "sessions": {c: list(s) for c, s in self.sessions.items()}}

    def restore(self, data: dict[str, Any]) -> None:
        self.ctl.restore(data["configs"])
        self.sessions = {c: list(s) for c, s in data["sessions"].items()}


def empty_config() -> dict[str, Any]:
    return {"num": 0, "shards": [0] * NSHARDS, "groups": {}}


class KVMachine:
    """A replica group's state machine: the configuration it is in (and the one before),
    and per shard its state, key/values and session table (client -> [seq, reply])."""

    def __init__(self, gid: int, log: Callable[[str], None] = lambda text: None) -> None:
        self.gid = gid
        self.log = log  # a line per configuration and per shard installed or deleted
        self.config = empty_config()
        self.prev = empty_config()
        self.shards: dict[int, dict[str, Any]] = {}  # shard -> {"state", "kv", "sessions"}

    # what a request may see
    def is_read(self, cmd: dict[str, Any]) -> bool:
        return False  # reads go through the log too: served where the log says it owns the key

    def read(self, cmd: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("no unlogged reads")

    def serving(self, shard: int) -> dict[str, Any] | None:
        """The error a request for this shard gets now, or None if it is served."""
        sh = self.shards.get(shard)
        if self.config["shards"][shard] != self.gid:
            return _error(WRONG_GROUP, f"shard {shard} is not group {self.gid}'s in "
                                       f"configuration {self.config['num']}")
        if sh is None or sh["state"] == PULLING and MUTANT != "serve-pulling":
            return _error(TEMPORARILY_UNAVAILABLE, f"shard {shard} is still on its way to group "
                                                   f"{self.gid}")
        return None

    def precheck(self, cmd: dict[str, Any]) -> dict[str, Any] | None:
        shard = key2shard(cmd["k"])
        err = self.serving(shard)
        if err is not None:
            return err
        return last_reply(self.shards[shard]["sessions"], cmd)

    def stable(self) -> bool:
        return all(sh["state"] in (SERVING, KEPT) for sh in self.shards.values())

    # applying the log
    def apply(self, cmd: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
        op = cmd["op"]
        if op == "config":
            self.apply_config(cmd["config"])
            return None, None
        if op == "install":
            sh = self.shards.get(cmd["shard"])
            if cmd["num"] == self.config["num"] and sh is not None and sh["state"] == PULLING:
                sh["kv"] = {k: v for k, v in cmd["kv"]}
                sh["sessions"] = {c: list(s) for c, s in cmd["sessions"].items()}
                sh["state"] = SETTLING
                self.log(f"shard {cmd['shard']} installed ({len(sh['kv'])} keys), configuration {cmd['num']}")
            return None, None
        if op == "delete":  # the new owner has the shard: forget this copy
            sh = self.shards.get(cmd["shard"])
            if cmd["num"] == self.config["num"] and sh is not None and sh["state"] == SENDING:
                if MUTANT == "no-gc":
                    sh["state"] = KEPT
                else:
                    del self.shards[cmd["shard"]]
                self.log(f"shard {cmd['shard']} deleted, configuration {cmd['num']}")
            return None, None
        if op == "settled":
            sh = self.shards.get(cmd["shard"])
            if cmd["num"] == self.config["num"] and sh is not None and sh["state"] == SETTLING:
                sh["state"] = SERVING
            return None, None
        return self.apply_client(cmd)

    def apply_client(self, cmd: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
        client, seq = cmd["c"], cmd["id"]
        shard = key2shard(cmd["k"])
        err = self.serving(shard)
        if err is not None:
            return (client, seq), err  # not applied, so not in any session: a retry elsewhere is fine
        sh = self.shards.setdefault(shard, {"state": SERVING, "kv": {}, "sessions": {}})
        return (client, seq), apply_once(sh["sessions"], cmd, lambda c: self.execute(sh["kv"], c))

    @staticmethod
    def execute(kv: dict[Any, Any], cmd: dict[str, Any]) -> dict[str, Any]:
        key, op = cmd["k"], cmd["op"]
        if op == "read":
            if key not in kv:
                return _error(KEY_DOES_NOT_EXIST, f"key {key} does not exist")
            return {"type": "read_ok", "value": kv[key]}
        if op == "write":
            kv[key] = cmd["v"]
            return {"type": "write_ok"}
        if key not in kv:
            return _error(KEY_DOES_NOT_EXIST, f"key {key} does not exist")
        if kv[key] != cmd["f"]:
            return _error(PRECONDITION_FAILED, f"expected {cmd['f']}, have {kv[key]}")
        kv[key] = cmd["t"]
        return {"type": "cas_ok"}

    def apply_config(self, new: dict[str, Any]) -> None:
        """The next configuration, only once every shard has settled from the last one."""
        if new["num"] != self.config["num"] + 1 or not self.stable():
            return
        old = self.config
        for s in range(NSHARDS):
            was, now = old["shards"][s] == self.gid, new["shards"][s] == self.gid
            if now and not was:
                if old["shards"][s] == 0:  # nobody had it: it starts empty
                    self.shards[s] = {"state": SERVING, "kv": {}, "sessions": {}}
                else:
                    self.shards[s] = {"state": PULLING, "kv": {}, "sessions": {}}
            elif was and not now:
                sh = self.shards.setdefault(s, {"state": SERVING, "kv": {}, "sessions": {}})
                sh["state"] = SENDING
        self.prev, self.config = self.config, copy.deepcopy(new)
        self.log(f"configuration {new['num']}: shards {new['shards']}")

    def snapshot(self) -> dict[str, Any]:
        """A copy of the state (the Raft core keeps it, to send to followers: see CtlMachine)."""
        return {"config": copy.deepcopy(self.config), "prev": copy.deepcopy(self.prev),
                "shards": [[s, sh["state"], [[k, v] for k, v in sh["kv"].items()],
                            {c: list(x) for c, x in sh["sessions"].items()}]
                           for s, sh in sorted(self.shards.items())]}

    def restore(self, data: dict[str, Any]) -> None:
        self.config, self.prev = copy.deepcopy(data["config"]), copy.deepcopy(data["prev"])
        self.shards = {s: {"state": st, "kv": {k: v for k, v in kv}, "sessions": {c: list(x) for c, x in ss.items()}}
                       for s, st, kv, ss in data["shards"]}


# ----- one replica: Raft core and request path (RaftService, as kvraft's) + a state machine ------
class Replica(RaftService):
    READS = ("read", "query")  # a lin-kv read goes through the log (is_read), but changes nothing
    LATE = "no answer from the group in time; the operation may still happen"
    CLIENT_DEADLINE = CLIENT_DEADLINE

    def __init__(self, name: str, peers: list[str], machine: Any) -> None:
        super().__init__(node, peers, group=name, snapshot_every=SNAPSHOT_EVERY)
        self.machine = machine
        self.restore_loaded()

    def apply(self, entry: Entry) -> None:
        if entry.command is not None:
            key, result = self.machine.apply(entry.command)
            if key is not None:  # an internal command: no one waits for it
                self.answer(key, result)

    def snapshot(self) -> Any:
        return self.machine.snapshot()

    def restore(self, data: Any) -> None:
        if data is not None:
            self.machine.restore(data)

    def propose(self, cmd: dict[str, Any]) -> bool:
        """Log an internal command (no one waits for it); False if not the leader."""
        try:
            self.core.propose(cmd)
        except NotLeader:
            return False
        self.pump()
        return True

    def is_read(self, cmd: dict[str, Any]) -> bool:
        return bool(self.machine.is_read(cmd))

    def read(self, cmd: dict[str, Any]) -> dict[str, Any]:
        return self.machine.read(cmd)  # type: ignore[no-any-return]

    def precheck(self, cmd: dict[str, Any]) -> dict[str, Any] | None:
        return self.machine.precheck(cmd)  # type: ignore[no-any-return]

    def definite(self, code: int) -> bool:
        return code != 0 and code != TEMPORARILY_UNAVAILABLE  # wrong group, no such key, precondition


# ----- a replica group's leader: configurations and shards ------------------------------------
class GroupDriver:
    """What a replica group's leader does on its own: look for the next configuration,
    pull the shards it now owns, have the old owners delete theirs."""

    def __init__(self, replica: Replica, machine: KVMachine) -> None:
        self.r = replica
        self.m = machine
        self.busy: set[Any] = set()  # pulls and deletes under way (one of each per shard)
        self.first: dict[str, int] = {}  # a server list's first: the one that answered last
        self.joined = False  # --auto-join: the controller has been seen to know this group

    async def ask(self, servers: list[str], body: dict[str, Any]) -> dict[str, Any] | None:
        """The first good answer from any of `servers` (tried in turn), or None."""
        key = ",".join(servers)
        for _ in range(len(servers)):
            i = self.first.get(key, 0) % len(servers)
            try:
                reply = await node.rpc(servers[i], dict(body), timeout=PEER_TIMEOUT)
                return reply.body
            except RPCError:
                self.first[key] = i + 1
        return None

    def poll(self) -> None:
        if self.r.core.role != LEADER:
            return
        m = self.m
        if AUTO_JOIN and not self.joined:
            self.spawn_once("join", self.join)
        if m.stable():
            self.spawn_once("config", self.next_config)
        for s, sh in list(m.shards.items()):
            if sh["state"] == PULLING:
                self.spawn_once(("pull", s), lambda s=s: self.pull(s))
            elif sh["state"] == SETTLING:
                self.spawn_once(("delete", s), lambda s=s: self.delete(s))

    def spawn_once(self, key: Any, job: Callable[[], Any]) -> None:
        if key in self.busy:
            return
        self.busy.add(key)
        task = node.spawn(job())
        task.add_done_callback(lambda _t: self.busy.discard(key))

    async def join(self) -> None:
        """--auto-join: join this group unless the latest configuration has it (one
        client id and seq for the group: a join sent twice, by two leaders, applies once)."""
        gid = str(self.m.gid)
        latest = await self.ask(CTL_SERVERS, {"type": "query", "num": -1})
        if latest is None or latest.get("type") != "query_ok":
            return
        if gid in latest["config"]["groups"]:
            self.joined = True
            return
        await self.ask(CTL_SERVERS, {"type": "join", "groups": {gid: LAYOUT[gid]},
                                     "client": f"auto-join-{gid}", "seq": 1})

    async def next_config(self) -> None:
        num = self.m.config["num"]
        reply = await self.ask(CTL_SERVERS, {"type": "query", "num": num + 1})
        if reply is None or reply.get("type") != "query_ok":
            return
        c = reply["config"]
        if c["num"] == num + 1 and self.m.config["num"] == num:
            cfg = {"num": c["num"], "shards": [int(g) for g in c["shards"]],
                   "groups": {str(g): list(v) for g, v in c["groups"].items()}}
            self.r.propose({"op": "config", "config": cfg})

    def old_owner(self, s: int) -> list[str]:
        prev = self.m.prev
        return list(prev["groups"].get(str(prev["shards"][s]), []))

    async def pull(self, s: int) -> None:
        num = self.m.config["num"]
        reply = await self.ask(self.old_owner(s), {"type": "shard_pull", "shard": s, "num": num})
        if reply is None or reply.get("type") != "shard_pull_ok":
            return
        sh = self.m.shards.get(s)
        if self.m.config["num"] == num and sh is not None and sh["state"] == PULLING:
            sessions = {} if MUTANT == "no-sessions" else reply["sessions"]
            self.r.propose({"op": "install", "num": num, "shard": s, "kv": reply["kv"],
                            "sessions": sessions})

    async def delete(self, s: int) -> None:
        num = self.m.config["num"]
        reply = await self.ask(self.old_owner(s), {"type": "shard_delete", "shard": s, "num": num})
        if reply is None or reply.get("type") != "shard_delete_ok":
            return
        self.r.propose({"op": "settled", "num": num, "shard": s})


# ----- --route and --churn ----------------------------------------------------------------------
class Router:
    """--route: take a request for any key to the group that owns it, as a clerk would."""

    def __init__(self) -> None:
        self.config: dict[str, Any] | None = None
        self.first: dict[str, int] = {}

    async def refresh(self, timeout: float) -> None:
        for k in range(len(CTL_SERVERS)):
            server = CTL_SERVERS[(self.first.get("ctl", 0) + k) % len(CTL_SERVERS)]
            try:
                reply = await node.rpc(server, {"type": "query", "num": -1}, timeout=timeout)
            except RPCError:
                continue
            self.config = reply.body["config"]
            return

    async def route(self, body: dict[str, Any], client: str, seq: int) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CLIENT_DEADLINE
        out = {k: v for k, v in body.items() if k != "msg_id"}
        out.update(client=client, seq=seq, routed=True)
        shard = key2shard(body["key"])
        sent = False  # once a copy may be in some log, only an indefinite error is honest
        while (remaining := deadline - loop.time()) > 0:
            if self.config is None:
                await self.refresh(min(PEER_TIMEOUT, remaining))
                if self.config is None:
                    await asyncio.sleep(min(0.1, max(0.0, deadline - loop.time())))
                    continue
            gid = str(self.config["shards"][shard])
            servers = self.config["groups"].get(gid, [])
            for k in range(len(servers)):
                if (remaining := deadline - loop.time()) <= 0:
                    break
                i = (self.first.get(gid, 0) + k) % len(servers)
                try:
                    reply = await node.rpc(servers[i], dict(out), timeout=min(FORWARD_TIMEOUT, remaining))
                except RPCError as exc:
                    if exc.code in (KEY_DOES_NOT_EXIST, PRECONDITION_FAILED):
                        raise
                    if exc.code == WRONG_GROUP:
                        break
                    if exc.code != TEMPORARILY_UNAVAILABLE:
                        sent = True  # a timeout or an indefinite answer: it may apply
                    continue
                self.first[gid] = i
                return {k: v for k, v in reply.body.items() if k != "in_reply_to"}
            self.config = None  # a wrong group, or no answer: ask the controller again
            await asyncio.sleep(min(0.05, max(0.0, deadline - loop.time())))
        if sent and body["type"] != "read":
            raise RPCError(0, "no answer from the group in time; the operation may still happen")
        raise RPCError(TEMPORARILY_UNAVAILABLE, f"no group served shard {shard} in time")


router = Router()


class Churn:
    """--churn: the controller's leader moves shards now and then, so that every test
    runs through configuration changes."""

    def __init__(self) -> None:
        self.client = f"churn-{node.id}-{node.random.randrange(1 << 30)}"
        self.seq = 0
        self.last = 0.0

    def step(self) -> None:
        if replica is None or replica.core.role != LEADER or not isinstance(replica.machine, CtlMachine):
            return
        now = asyncio.get_running_loop().time()
        if now - self.last < CHURN:
            return
        self.last = now
        latest = replica.machine.ctl.latest()
        gids = sorted(int(g) for g in LAYOUT if g != "ctl")
        if any(g not in latest["groups"] for g in gids):
            return  # until every group has joined
        self.seq += 1
        replica.propose({"op": "move", "shard": node.random.randrange(NSHARDS),
                         "gid": node.random.choice(gids), "c": self.client, "id": self.seq})


churn: Churn | None = None


# ----- the node ----------------------------------------------------------------------------
replica: Replica | None = None
kv: KVMachine | None = None
driver: GroupDriver | None = None


@node.on("init")
def start(msg: Any) -> None:
    global replica, kv, driver, churn
    mine = [(name, servers) for name, servers in LAYOUT.items() if node.id in servers]
    if not mine:
        raise RuntimeError(f"{node.id} is in no group of --layout {LAYOUT}")
    name, servers = mine[0]
    if name == "ctl":
        replica = Replica("ctl", servers, CtlMachine())
        if CHURN > 0:
            churn = Churn()
    else:
        kv = KVMachine(int(name), node.log)
        replica = Replica(name, servers, kv)
        driver = GroupDriver(replica, kv)


serve_raft(node, lambda: replica, tick=TICK, forward=Replica.FORWARD)


def poll() -> None:
    if driver is not None:
        driver.poll()
    if churn is not None:
        churn.step()


node.every(POLL, poll)


def _ready(want_kv: bool) -> Replica:
    if replica is None:
        raise RPCError(TEMPORARILY_UNAVAILABLE, "starting")
    if want_kv != (kv is not None):
        raise RPCError(WRONG_GROUP if want_kv else MALFORMED,
                       f"{node.id} is {'a controller' if kv is None else 'a replica group'} server")
    return replica


async def kv_request(msg: Any) -> dict[str, Any]:
    b = msg.body
    if ROUTE and not b.get("routed"):
        ready(replica)
        return await router.route(b, str(b.get("client", msg.src)), int(b.get("seq", b["msg_id"])))
    r = _ready(True)
    cmd: dict[str, Any] = {"op": b["type"], "k": b["key"]}
    if b["type"] == "write":
        cmd["v"] = b["value"]
    elif b["type"] == "cas":
        cmd.update(f=b["from"], t=b["to"])
    cmd.update(c=str(b.get("client", msg.src)), id=int(b.get("seq", b["msg_id"])))
    return await r.submit(cmd)


async def ctl_request(msg: Any) -> dict[str, Any]:
    r = _ready(False)
    b = msg.body
    kind = b["type"]
    try:
        if kind == "query":
            return await r.submit({"op": "query", "num": int(b.get("num", -1))})
        if kind == "join":
            cmd: dict[str, Any] = {"op": "join", "groups": {str(int(g)): [str(s) for s in v]
                                                            for g, v in b["groups"].items()}}
        elif kind == "leave":
            cmd = {"op": "leave", "gids": [int(g) for g in b["gids"]]}
        else:
            cmd = {"op": "move", "shard": int(b["shard"]), "gid": int(b["gid"])}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RPCError(MALFORMED, f"bad {kind} request: {exc}") from None
    cmd.update(c=str(b.get("client", msg.src)), id=int(b.get("seq", b["msg_id"])))
    return await r.submit(cmd)


for _kind in ("read", "write", "cas"):
    node.on(_kind)(kv_request)
for _kind in ("join", "leave", "move", "query"):
    node.on(_kind)(ctl_request)


@node.on("shard_pull")
def shard_pull(msg: Any) -> dict[str, Any]:
    """The shard as this replica holds it, if it has applied the same configuration and
    the shard is waiting here to be pulled (then no write to it can be applied any more)."""
    _ready(True)
    assert kv is not None
    s, num = int(msg.body["shard"]), int(msg.body["num"])
    sh = kv.shards.get(s)
    if kv.config["num"] != num or sh is None or sh["state"] != SENDING:
        raise RPCError(TEMPORARILY_UNAVAILABLE, f"shard {s} of configuration {num} not ready here "
                                                f"(at configuration {kv.config['num']})")
    return {"type": "shard_pull_ok", "kv": [[k, v] for k, v in sh["kv"].items()],
            "sessions": copy.deepcopy(sh["sessions"])}


@node.on("shard_delete")
async def shard_delete(msg: Any) -> dict[str, Any]:
    """The new owner has installed the shard: log its deletion here, answer once done."""
    r = _ready(True)
    assert kv is not None
    s, num = int(msg.body["shard"]), int(msg.body["num"])
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PEER_TIMEOUT * 0.8
    proposed = False
    while loop.time() < deadline:
        sh = kv.shards.get(s)
        # past configuration num, every shard had settled here: this one was deleted
        if kv.config["num"] > num or (kv.config["num"] == num and (sh is None or sh["state"] == KEPT)):
            return {"type": "shard_delete_ok"}
        if kv.config["num"] == num and sh is not None and sh["state"] == SENDING and not proposed:
            proposed = r.propose({"op": "delete", "num": num, "shard": s})
            if not proposed:
                break  # not the leader: the asker tries the next server
        await asyncio.sleep(0.05)
    raise RPCError(TEMPORARILY_UNAVAILABLE, f"shard {s} of configuration {num} not deleted yet")


@node.on("shard_status")
def shard_status(msg: Any) -> dict[str, Any]:
    """What this replica holds: its configuration and, per shard, its state and size."""
    if kv is None:
        raise RPCError(TEMPORARILY_UNAVAILABLE, "not a replica group server")
    return {"type": "shard_status_ok", "gid": kv.gid, "num": kv.config["num"],
            "shards": {str(s): {"state": sh["state"], "keys": len(sh["kv"])}
                       for s, sh in sorted(kv.shards.items())}}


if __name__ == "__main__":
    node.run()
