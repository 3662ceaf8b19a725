"""kafka: append-only logs per key with client-tracked offsets (Gossip Glomers 5).

`send{key, msg}` -> `send_ok{offset}`; `poll{offsets: {key: offset}}` ->
`poll_ok{msgs: {key: [[offset, msg], ...]}}` from each requested offset on;
`commit_offsets{offsets}` and `list_committed_offsets{keys}`. Each client
polls its keys from just past what it last saw, and a client that starts over
(after an indeterminate operation) resumes from the committed offsets, as
Maelstrom's does. The final phase polls every key from 0 on every node, and keeps polling from
where each poll ended until a poll brings nothing new.

The history uses Jepsen's kafka shape (see distlab/checkers/kafka.py), so the
checker finds lost writes, poll skips, non-monotonic sends and polls,
inconsistent offsets, duplicates and unseen writes.
"""

from __future__ import annotations

from typing import Any

from distlab.checkers import kafka
from distlab.workloads.base import Op, Workload

DEFAULT_KEYS = 5


class Kafka(Workload):
    name = "kafka"
    read_only = frozenset({"poll", "list_committed_offsets"})
    final_phase = True

    def __init__(self, opts: Any, rng: Any) -> None:
        super().__init__(opts, rng)
        self.keys = [str(k) for k in range(opts.key_count or DEFAULT_KEYS)]
        self.next_msg = 0
        self.positions: dict[int, dict[str, int]] = {}  # process -> key -> next offset to poll
        self.committed: dict[str, int] = {}  # what clients have committed (their view)

    def _positions(self, process: int) -> dict[str, int]:
        pos = self.positions.get(process)
        if pos is None:
            # A new client starts from what was committed, as a consumer group would.
            pos = self.positions[process] = dict(self.committed)
        return pos

    def next_op(self, process: int) -> Op:
        roll = self.rng.random()
        if roll < 0.5:
            self.next_msg += 1
            return Op("send", [["send", self.rng.choice(self.keys), self.next_msg]])
        pos = self._positions(process)
        if roll < 0.9:
            keys = self.rng.sample(self.keys, min(2, len(self.keys)))
            return Op("poll", {"offsets": {k: pos.get(k, 0) for k in keys}, "process": process})
        return Op("commit_offsets", {k: v for k, v in sorted(pos.items())})

    def request(self, op: Op) -> dict[str, Any]:
        if op.f == "send":
            _, key, msg = op.value[0]
            return {"type": "send", "key": key, "msg": msg}
        if op.f == "poll":
            return {"type": "poll", "offsets": dict(op.value["offsets"])}
        if op.f == "commit_offsets":
            return {"type": "commit_offsets", "offsets": dict(op.value)}
        return {"type": "list_committed_offsets", "keys": list(op.value)}

    def invoke_value(self, op: Op) -> Any:
        """What the history records at invocation (Jepsen's shape)."""
        return [["poll"]] if op.f == "poll" else op.value

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        if op.f == "send":
            _, key, msg = op.value[0]
            offset = reply["offset"]
            if not isinstance(offset, int):
                raise ValueError(f"send_ok offset {offset!r} is not an integer")
            return [["send", key, [offset, msg]]]
        if op.f == "poll":
            msgs = reply["msgs"]
            if not isinstance(msgs, dict):
                raise ValueError(f"poll_ok msgs {msgs!r} is not an object")
            process = op.value.get("process")
            if process is not None:
                pos = self._positions(process)
                for key, pairs in msgs.items():
                    if pairs:
                        pos[key] = max(pos.get(key, 0), max(p[0] for p in pairs) + 1)
            return [["poll", msgs]]
        if op.f == "commit_offsets":
            for key, offset in op.value.items():
                self.committed[key] = max(self.committed.get(key, 0), offset)
        return op.value

    def final_ops(self, node_ids: list[str]) -> list[tuple[str, Op]]:
        return [(node, Op("poll", {"offsets": {k: 0 for k in self.keys}})) for node in node_ids]

    def final_next(self, op: Op, value: Any) -> Op | None:
        """Keep polling past what the last final poll returned until nothing new comes."""
        msgs = value[0][1]
        offsets = {k: pairs[-1][0] + 1 for k, pairs in msgs.items() if pairs}
        if not offsets:
            return None
        return Op("poll", {"offsets": {**op.value["offsets"], **offsets}})

    def check(self, history: list[dict[str, Any]]) -> dict[str, Any]:
        return kafka.check(history)


WORKLOAD = Kafka
