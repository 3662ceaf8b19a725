"""The linearizability checker against a brute-force oracle (tests/lin_oracle.py).

Small histories (up to 7 calls, 1-4 clients) come from a real execution of
each model's object: clients invoke, calls take effect atomically at some
moment of their interval, outcomes are ok, info or fail, crashed calls may
take effect later or never, clients re-invoke without a completion, nemesis
markers interleave. Most are then perturbed (a read's value, an outcome, a
written value, a lost record, two records swapped, an extra read), so that
both verdicts occur often. `check` must agree with the oracle on every one;
Hypothesis shrinks a disagreement to a minimal history.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from distlab.checkers.linearizable import check
from tests.conftest import shared_data, shared_glob
from tests.lin_oracle import linearizable, linearization

MODELS = ["register", "cas-register", "cas-register-knossos", "keyed-cas-register", "kv", "set",
          "fifo-queue"]
MAX_OPS = 7
EXAMPLES = 500  # per model

SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

READS = {"read", "get", "dequeue"}


@dataclass
class Call:
    """An operation in flight in the simulated execution."""

    process: int
    op: dict[str, Any]  # f, value (and key for kv)
    applied: bool = False
    outcome: tuple[str, Any] = ("info", None)  # (completion type, value) once applied


class Real:
    """The object a model specifies, as a correct server would run it (each call atomic)."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.reg: Any = 0 if model == "cas-register-knossos" else None
        self.map: dict[Any, Any] = {}
        self.items: list[Any] = []

    def perform(self, op: dict[str, Any]) -> tuple[str, Any]:
        """Apply `op` now: (completion type, completion value)."""
        f, value = op["f"], op["value"]
        if self.model == "keyed-cas-register":
            key, arg = value
            current = self.map.get(key)
            if f == "read":
                return "ok", [key, current]
            if f == "write":
                self.map[key] = arg
                return "ok", value
            if current != arg[0]:
                return "fail", value
            self.map[key] = arg[1]
            return "ok", value
        if self.model == "kv":
            current = self.map.get(op["key"], "")
            if f == "get":
                return "ok", current
            self.map[op["key"]] = value if f == "put" else current + value
            return "ok", value
        if self.model == "set":
            if f == "read":
                return "ok", sorted(set(self.items))
            self.items.append(value)
            return "ok", value
        if self.model == "fifo-queue":
            if f == "dequeue":
                return "ok", self.items.pop(0) if self.items else None
            self.items.append(value)
            return "ok", value
        if f == "read":
            return "ok", self.reg
        if f == "write":
            self.reg = value
            return "ok", value
        if self.reg != value[0]:
            return "fail", value
        self.reg = value[1]
        return "ok", value


SMALL = st.integers(0, 3)


@functools.cache
def calls(model: str) -> dict[str, st.SearchStrategy[dict[str, Any]]]:
    """Each kind of client call of `model`, values from small domains so that they collide."""
    def read(value: Any = None) -> st.SearchStrategy[dict[str, Any]]:
        return st.just({"f": "read", "value": value})

    def one(f: str, value: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
        return value.map(lambda v: {"f": f, "value": v})

    pair = st.lists(SMALL, min_size=2, max_size=2)
    if model == "register":
        return {"read": read(), "write": one("write", SMALL)}
    if model in ("cas-register", "cas-register-knossos"):
        return {"read": read(), "write": one("write", SMALL), "cas": one("cas", pair)}
    if model == "keyed-cas-register":
        key = st.integers(0, 1)
        return {"read": one("read", key.map(lambda k: [k, None])),
                "write": one("write", st.tuples(key, SMALL).map(list)),
                "cas": one("cas", st.tuples(key, pair).map(list))}
    if model == "kv":
        key, text = st.sampled_from(["a", "b"]), st.sampled_from(["x", "y"])
        return {f: st.builds(lambda k, v, f=f: {"f": f, "key": k, "value": v},
                             key, st.none() if f == "get" else text)
                for f in ("get", "put", "append")}
    item = st.integers(1, 4)
    if model == "set":
        return {"read": read(), "add": one("add", item)}
    return {"dequeue": st.just({"f": "dequeue", "value": None}), "enqueue": one("enqueue", item)}


@functools.cache
def op_strategy(model: str, f: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """A client call of `model` (of kind `f` if given)."""
    kinds = calls(model)
    return kinds[f] if f is not None else st.one_of(*kinds.values())


SUBSETS = [sorted(x for x in range(1, 5) if mask >> x & 1) for mask in range(0, 32, 2)]


def read_values(model: str, op: dict[str, Any]) -> list[Any]:
    """Values a read of `op` might return, right or wrong."""
    if model == "kv":
        return ["", "x", "y", "xy", "yx", "xx", None]
    if model == "set":
        return [None, *SUBSETS]
    if model == "fifo-queue":
        return [None, 1, 2, 3, 4]
    if model == "keyed-cas-register":
        return [[op["value"][0], v] for v in (None, 0, 1, 2, 3)]
    return [None, 0, 1, 2, 3]


def other_read(draw: st.DrawFn, model: str, rec: dict[str, Any]) -> Any:
    """A read value for `rec` other than the one it has."""
    return draw(st.sampled_from([v for v in read_values(model, rec) if v != rec["value"]]))


@st.composite
def histories(draw: st.DrawFn, model: str) -> list[dict[str, Any]]:
    """A history of a real execution of `model`'s object, perhaps perturbed."""
    n_ops = draw(st.integers(1, MAX_OPS), label="ops")
    idle = list(range(draw(st.integers(1, 4), label="processes")))
    next_process = len(idle)
    real = Real(model)
    records: list[dict[str, Any]] = []
    flight: dict[int, Call] = {}
    zombies: list[Call] = []  # crashed calls that may still take effect
    issued = 0

    def emit(call: Call, type_: str, value: Any) -> None:
        rec = {"process": call.process, "type": type_, "f": call.op["f"], "value": value}
        if "key" in call.op:
            rec["key"] = call.op["key"]
        records.append(rec)

    def invoke(process: int) -> None:
        nonlocal issued
        call = Call(process, draw(op_strategy(model)))
        flight[process] = call
        issued += 1
        emit(call, "invoke", call.op["value"])

    def pick(items: list[Any]) -> Any:
        return items[draw(st.integers(0, len(items) - 1))]

    while issued < n_ops or flight:
        # duplicates weigh: calls mostly take effect and complete
        actions = []
        if issued < n_ops and idle:
            actions += ["invoke"] * 2
        if any(not c.applied for c in flight.values()):
            actions += ["apply"] * 3
        if flight:
            actions += ["complete"] * 3
        if zombies:
            actions += ["zombie"]
        if issued < n_ops and flight:
            actions += ["reinvoke"]
        if issued == n_ops:
            actions += ["stop"]
        if not records or records[-1]["process"] != "nemesis":
            actions += ["nemesis"]
        action = pick(actions)
        if action == "invoke":
            process = idle.pop(draw(st.integers(0, len(idle) - 1)))
            invoke(process)
        elif action == "apply":
            call = pick([c for c in flight.values() if not c.applied])
            call.applied, call.outcome = True, real.perform(call.op)
        elif action == "complete":
            call = flight.pop(pick(sorted(flight)))
            crash = draw(st.integers(0, 3)) == 3
            if call.applied and not crash:
                emit(call, *call.outcome)
            elif not call.applied and not crash:
                emit(call, "fail", call.op["value"])  # definitely did not happen
            else:
                emit(call, "info", call.op["value"])
                if not call.applied:
                    zombies.append(call)
                call.process, next_process = next_process, next_process + 1
            idle.append(call.process)
        elif action == "zombie":
            call = zombies.pop(draw(st.integers(0, len(zombies) - 1)))
            real.perform(call.op)  # takes effect after its info record
        elif action == "reinvoke":
            # The client gives up on its call without a completion record and
            # invokes again: the checker must read the old call as crashed.
            process = pick(sorted(flight))
            call = flight.pop(process)
            if not call.applied:
                zombies.append(call)
            invoke(process)
        elif action == "nemesis":  # a fault marker: not a client call
            records.append({"process": "nemesis", "type": "info", "f": pick(["start", "stop"]),
                            "value": None})
        else:
            break  # calls still in flight never complete
    if draw(st.integers(0, 3), label="perturbed") > 0:
        for _ in range(draw(st.integers(1, 3), label="perturbations")):
            perturb(draw, model, records)
    return records


def perturb(draw: st.DrawFn, model: str, records: list[dict[str, Any]]) -> None:
    """One change a faulty system might make: a wrong read, a wrong outcome, a
    different written value, a lost record, two records in the other order, or
    a read by another client (right or wrong)."""
    reads = [r for r in records if r["type"] == "ok" and r["f"] in READS]
    done = [r for r in records if r["type"] != "invoke" and r["process"] != "nemesis"]
    writes = [r for r in records if r["type"] == "invoke" and r["f"] not in READS]
    droppable = []
    busy: set[Any] = set()
    for i, rec in enumerate(records):
        # an invocation may go only if its completion then becomes an orphan,
        # not the completion of another call of its process
        if rec["type"] != "invoke" or rec["process"] not in busy:
            droppable.append(i)
        (busy.add if rec["type"] == "invoke" else busy.discard)(rec["process"])
    room = [True] if sum(r["type"] == "invoke" for r in records) < MAX_OPS else []
    swappable = [i for i in range(len(records) - 1)
                 if records[i]["process"] != records[i + 1]["process"]]
    kinds = [kind for kind, there in [("read", reads)] * 3 + [("outcome", done),
                                      ("write", writes), ("drop", droppable),
                                      ("swap", swappable), ("insert", room)] if there]
    kind = draw(st.sampled_from(kinds))
    if kind == "read":
        rec = draw(st.sampled_from(reads))
        rec["value"] = other_read(draw, model, rec)
    elif kind == "outcome":
        rec = draw(st.sampled_from(done))
        rec["type"] = draw(st.sampled_from(sorted({"ok", "fail", "info"} - {rec["type"]})))
        if rec["type"] == "ok" and rec["f"] in READS:
            rec["value"] = other_read(draw, model, rec)
    elif kind == "write":
        rec = draw(st.sampled_from(writes))
        fresh = draw(op_strategy(model, rec["f"]))
        rec["value"] = fresh["value"]
        if "key" in fresh:
            rec["key"] = fresh["key"]
    elif kind == "drop":
        del records[draw(st.sampled_from(droppable))]
    elif kind == "swap":
        i = draw(st.sampled_from(swappable))
        records[i], records[i + 1] = records[i + 1], records[i]
    else:  # a read by a new client, concurrent with whatever it overlaps
        f = next(f for f in calls(model) if f in READS)
        call = draw(op_strategy(model, f))
        rec = {"process": 100 + len(records), "type": "invoke", **call}
        done = {**rec, "type": "ok"}
        done["value"] = draw(st.sampled_from(read_values(model, done)))
        i = draw(st.integers(0, len(records)))
        j = draw(st.integers(i, len(records)))
        records[:] = [*records[:i], rec, *records[i:j], done, *records[j:]]


def _show(history: list[dict[str, Any]]) -> str:
    return "\n".join(orjson.dumps(r).decode() for r in history)


@pytest.mark.parametrize("model", MODELS)
@SETTINGS
@given(data=st.data())
def test_check_agrees_with_the_oracle(model: str, data: st.DataObject) -> None:
    history = data.draw(histories(model), label="history")
    expected = linearizable(history, model)
    event(f"oracle: {'linearizable' if expected else 'not linearizable'}")
    # quantum=1: the partitions' searches take turns after every step
    for quantum in (None, 1):
        result = check(history, model) if quantum is None else check(history, model, quantum=quantum)
        assert result.valid is expected, (
            f"{model} (quantum {quantum}): check says {result.valid}, the oracle {expected}\n"
            f"{_show(history)}\noracle's order: {linearization(history, model)}\n{result.explain()}")


# The oracle itself, on histories whose verdicts are known without it.

def h(*recs: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [{"process": p, "type": t, "f": f, "value": v} for p, t, f, v in recs]


@pytest.mark.parametrize(("model", "history", "expected"), [
    ("cas-register", [], True),
    ("cas-register", h((0, "invoke", "read", None), (0, "ok", "read", None)), True),
    ("cas-register", h((0, "invoke", "read", None), (0, "ok", "read", 0)), False),
    ("cas-register-knossos", h((0, "invoke", "read", None), (0, "ok", "read", 0)), True),
    ("cas-register-knossos", h((0, "invoke", "write", 2), (0, "ok", "write", 2),
                               (1, "invoke", "read", None), (1, "ok", "read", None)), True),
    # a failed write never happened
    ("register", h((0, "invoke", "write", 1), (0, "fail", "write", 1),
                   (1, "invoke", "read", None), (1, "ok", "read", 1)), False),
    # an info write may take effect after a later write...
    ("register", h((0, "invoke", "write", 1), (0, "info", "write", 1),
                   (1, "invoke", "write", 2), (1, "ok", "write", 2),
                   (1, "invoke", "read", None), (1, "ok", "read", 1)), True),
    # ... but not before its call
    ("register", h((1, "invoke", "read", None), (1, "ok", "read", 1),
                   (0, "invoke", "write", 1), (0, "info", "write", 1)), False),
    # a process invoking again: its first call's outcome is unknown
    ("register", h((0, "invoke", "write", 1), (0, "invoke", "read", None),
                   (0, "ok", "read", 1)), True),
    # concurrent writes, reads that disagree on their order
    ("register", h((0, "invoke", "write", 1), (1, "invoke", "write", 2), (0, "ok", "write", 1),
                   (1, "ok", "write", 2), (2, "invoke", "read", None), (2, "ok", "read", 1),
                   (3, "invoke", "read", None), (3, "ok", "read", 2)), False),
    ("cas-register", h((0, "invoke", "cas", [None, 1]), (0, "ok", "cas", [None, 1])), True),
    ("cas-register", h((0, "invoke", "cas", [0, 1]), (0, "ok", "cas", [0, 1])), False),
    ("keyed-cas-register", h((0, "invoke", "write", [1, 5]), (0, "ok", "write", [1, 5]),
                             (1, "invoke", "read", [2, None]), (1, "ok", "read", [2, None])), True),
    ("keyed-cas-register", h((0, "invoke", "write", [1, 5]), (0, "ok", "write", [1, 5]),
                             (1, "invoke", "read", [2, None]), (1, "ok", "read", [2, 5])), False),
    ("set", h((0, "invoke", "add", 1), (1, "invoke", "read", None), (1, "ok", "read", [1]),
              (0, "info", "add", 1)), True),
    ("set", h((0, "invoke", "add", 1), (0, "ok", "add", 1), (1, "invoke", "read", None),
              (1, "ok", "read", [])), False),
    ("fifo-queue", h((0, "invoke", "enqueue", 1), (0, "ok", "enqueue", 1),
                     (0, "invoke", "enqueue", 2), (0, "ok", "enqueue", 2),
                     (1, "invoke", "dequeue", None), (1, "ok", "dequeue", 2)), False),
    ("fifo-queue", h((0, "invoke", "enqueue", 1), (1, "invoke", "dequeue", None),
                     (1, "info", "dequeue", None), (2, "invoke", "dequeue", None),
                     (2, "ok", "dequeue", None)), True),
])
def test_oracle_on_known_histories(model: str, history: list[dict[str, Any]], expected: bool) -> None:
    assert linearizable(history, model) is expected


def test_oracle_kv_keys_are_independent_strings() -> None:
    def kv(p: int, t: str, f: str, key: str, v: Any) -> dict[str, Any]:
        return {"process": p, "type": t, "f": f, "key": key, "value": v}

    history = [kv(0, "invoke", "append", "a", "x"), kv(0, "ok", "append", "a", "x"),
               kv(0, "invoke", "append", "a", "y"), kv(0, "ok", "append", "a", "y"),
               kv(1, "invoke", "get", "a", None), kv(1, "ok", "get", "a", "xy"),
               kv(1, "invoke", "get", "b", None), kv(1, "ok", "get", "b", None)]
    assert linearizable(history, "kv")
    history[5] = kv(1, "ok", "get", "a", "yx")
    assert not linearizable(history, "kv")


def test_oracle_on_the_small_knossos_histories() -> None:
    """The reference verdicts (../shared/data/README.md) under both register readings."""
    from distlab.history import read_history
    from tests.lin_oracle import MAX_OPS as ORACLE_MAX
    from tests.lin_oracle import operations

    checked = 0
    for path in shared_glob("knossos/cas-register/*/*.edn"):
        history = read_history(path)
        if len(operations(history)) > ORACLE_MAX:
            continue
        expected = path.parent.name == "good"
        for model in ("cas-register", "cas-register-knossos"):
            assert linearizable(history, model) is expected, (path, model)
        checked += 1
    assert checked >= 3, shared_data("knossos", "cas-register")
