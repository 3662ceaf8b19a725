"""kafka: append-only logs per key, consumed as Maelstrom's clients consume them (Gossip Glomers 5).

The client is Maelstrom's (workload/kafka.clj over Jepsen's kafka workload, with
`assign`). Each client process holds a set of keys and, per key, the offset it
will poll next:

- `assign`: the process takes a new set of keys (one random key; a third of the
  time also every key with sent messages nobody has polled yet). As Maelstrom's
  client, it asks `list_committed_offsets{keys}` and seeks each key it did not
  already hold to its committed offset (0 when none); keys it keeps stay where
  they were, keys it drops are forgotten. A process's first operation is an
  assign (a failed one leaves it with no keys), later ones come 1 time in 64.
- `send{key, msg}` -> `send_ok{offset}`, to a random key.
- `poll{offsets}` from the process's positions -> `poll_ok{msgs}`; the positions
  move past what came.
- `commit_offsets{offsets}`: after each poll that brought messages the client
  commits, per key, the highest offset it polled (Maelstrom does this inside the
  poll operation; here it is the process's next operation, with its own record).

Keys are fixed (`--key-count`, 5), not rotated as Jepsen's generator rotates them.
The final phase is Maelstrom's too: each final reader is a fresh consumer that
seeks every key to 0 and polls (every 0.2 s on average, a failed poll is tried
again) until it has read up to the highest offset any operation saw for each key,
for at most 10 s.

The history uses Jepsen's kafka shape (see distlab/checkers/kafka.py): the
checker finds lost writes, poll skips, non-monotonic sends and polls,
inconsistent offsets, duplicates, unseen writes, final polls that never succeed, and
committed offsets that would make a consumer skip messages nobody committed.
An operation kind that never succeeds (a node without list_committed_offsets
fails every assign) is the run's stats check, as for every workload.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from distlab.checkers import kafka
from distlab.checkers.api import Checker, FunctionChecker
from distlab.workloads.base import Op, Workload, param

DEFAULT_KEYS = 5
ASSIGN_P = 1 / 64  # Jepsen's :sub-p
UNSEEN_P = 1 / 3  # Jepsen's poll-unseen: how often an assign also takes the keys with unseen sends


def _offset(value: Any, what: str) -> int:
    if type(value) is not int:
        raise ValueError(f"{what} {value!r} is not an integer offset")
    return value


@dataclass(frozen=True)
class KafkaParams:
    key_count: int = param(DEFAULT_KEYS, "How many keys (logs) clients send to and poll.")


class Kafka(Workload):
    name = "kafka"
    Params = KafkaParams
    read_only = frozenset({"poll", "assign", "list_committed_offsets"})
    final_phase = True

    def __init__(self, params: KafkaParams, rng: Any) -> None:
        super().__init__(params, rng)
        self.keys = [str(k) for k in range(params.key_count)]
        self.next_msg = 0
        self.positions: dict[int, dict[str, int]] = {}  # process -> assigned key -> next offset to poll
        self.to_commit: dict[int, dict[str, int]] = {}  # process -> offsets its last poll brought
        self.sent: dict[str, int] = {}  # key -> highest offset an ok send got
        self.polled: dict[str, int] = {}  # key -> highest offset an ok poll saw

    # ----- the generator ------------------------------------------------------------
    def next_op(self, process: int) -> Op:
        commit = self.to_commit.pop(process, None)
        if commit:
            return Op("commit_offsets", commit)
        if process not in self.positions or self.rng.random() < ASSIGN_P:
            self.positions.setdefault(process, {})
            return Op("assign", {"keys": self._assign_keys(), "process": process})
        if self.rng.random() < 0.5:
            self.next_msg += 1
            return Op("send", [["send", self.rng.choice(self.keys), self.next_msg]])
        return Op("poll", {"offsets": dict(sorted(self.positions[process].items())), "process": process})

    def _assign_keys(self) -> list[str]:
        keys = [self.rng.choice(self.keys)]
        if self.rng.random() < UNSEEN_P:
            keys += [k for k in self.keys if self.sent.get(k, -1) > self.polled.get(k, -1) and k not in keys]
        return sorted(keys)

    # ----- requests and replies ---------------------------------------------------------
    def request(self, op: Op) -> dict[str, Any]:
        if op.f == "send":
            _, key, msg = op.value[0]
            return {"type": "send", "key": key, "msg": msg}
        if op.f == "poll":
            return {"type": "poll", "offsets": dict(op.value["offsets"])}
        if op.f == "commit_offsets":
            return {"type": "commit_offsets", "offsets": dict(op.value)}
        return {"type": "list_committed_offsets", "keys": list(op.value["keys"])}  # assign

    def invoke_value(self, op: Op) -> Any:
        """What the history records at invocation (Jepsen's shape)."""
        if op.f == "poll":
            return [["poll"]]
        return list(op.value["keys"]) if op.f == "assign" else op.value

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        if op.f == "send":
            _, key, msg = op.value[0]
            offset = _offset(reply["offset"], "send_ok offset")
            self.sent[key] = max(self.sent.get(key, -1), offset)
            return [["send", key, [offset, msg]]]
        if op.f == "poll":
            msgs = reply["msgs"]
            if not isinstance(msgs, dict):
                raise ValueError(f"poll_ok msgs {msgs!r} is not an object")
            top = {k: max(_offset(p[0], "polled offset") for p in pairs) for k, pairs in msgs.items() if pairs}
            for key, offset in top.items():
                self.polled[key] = max(self.polled.get(key, -1), offset)
            process = op.value.get("process")
            if process is not None:  # a client's poll (not a final one): move on, then commit
                pos = self.positions.setdefault(process, {})
                for key, offset in top.items():
                    pos[key] = max(pos.get(key, 0), offset + 1)
                if top:
                    self.to_commit[process] = dict(sorted(top.items()))
            return [["poll", msgs]]
        if op.f == "assign":
            listed = reply["offsets"]
            if not isinstance(listed, dict):
                raise ValueError(f"list_committed_offsets_ok offsets {listed!r} is not an object")
            keys = op.value["keys"]
            committed = {k: _offset(listed[k], "committed offset") for k in keys if k in listed}
            held = self.positions.get(op.value["process"], {})
            # Maelstrom's seek: keys still held stay put, the others start at their committed offset.
            self.positions[op.value["process"]] = {k: held[k] if k in held else committed.get(k, 0) for k in keys}
            return {"keys": list(keys), "committed": committed}
        return op.value

    # ----- the final phase -----------------------------------------------------------
    def final_ops(self, node_ids: list[str]) -> list[tuple[str, Op]]:
        targets = {k: max(self.sent.get(k, -1), self.polled.get(k, -1)) for k in self.keys}
        targets = {k: o for k, o in targets.items() if o >= 0}
        keys = sorted(targets) or self.keys
        return [(node, Op("poll", {"offsets": {k: 0 for k in keys}, "targets": dict(targets)}))
                for node in node_ids]

    def final_next(self, op: Op, value: Any) -> Op | None:
        """Poll on from where the last poll ended (or again, if it failed) until every
        key's highest known offset has been read (Jepsen's final polls)."""
        if value is None:
            return op
        offsets = dict(op.value["offsets"])
        targets = dict(op.value["targets"])
        for key, pairs in value[0][1].items():
            if pairs:
                top = max(p[0] for p in pairs)
                offsets[key] = max(offsets.get(key, 0), top + 1)
                if targets.get(key, top + 1) <= top:
                    del targets[key]
        if not targets:
            return None
        return Op("poll", {"offsets": offsets, "targets": targets})

    def checker(self) -> Checker:
        return FunctionChecker(kafka.check, anomaly_keys=kafka.ANOMALIES)

