"""Property tests: histories from a sequential model under random concurrency are
linearizable; single mutations are caught."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.checkers.linearizable import check

SETTINGS = settings(deadline=None, derandomize=True, max_examples=60)


class Ref:
    """The sequential object each model specifies; apply() is atomic."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.reg: Any = None
        self.kv: dict[str, str] = {}
        self.items: list[Any] = []

    def gen(self, rnd: random.Random, serial: int) -> dict[str, Any]:
        m = self.model
        if m == "cas-register":
            f = rnd.choice(["read", "write", "cas"])
            value = {"read": None, "write": rnd.randrange(4),
                     "cas": [rnd.randrange(4), rnd.randrange(4)]}[f]
            return {"f": f, "value": value}
        if m == "kv":
            f = rnd.choice(["get", "put", "append", "append"])
            value = None if f == "get" else rnd.choice(["x", "y", f"z{serial}"])
            return {"f": f, "key": rnd.choice("ab"), "value": value}
        if m == "set":
            return {"f": "add", "value": serial} if rnd.random() < 0.6 else {"f": "read",
                                                                          "value": None}
        return ({"f": "enqueue", "value": serial} if rnd.random() < 0.55
                else {"f": "dequeue", "value": None})

    def apply(self, op: dict[str, Any]) -> tuple[str, Any]:
        """(completion type, completion value) of applying `op` now."""
        f, v = op["f"], op["value"]
        if f == "read" and self.model == "set":
            return "ok", sorted(self.items)
        if f == "read":
            return "ok", self.reg
        if f == "write":
            self.reg = v
            return "ok", v
        if f == "cas":
            if self.reg == v[0]:
                self.reg = v[1]
                return "ok", v
            return "fail", v
        if f == "get":
            return "ok", self.kv.get(op["key"], "")
        if f == "put":
            self.kv[op["key"]] = v
            return "ok", v
        if f == "append":
            self.kv[op["key"]] = self.kv.get(op["key"], "") + v
            return "ok", v
        if f == "add":
            self.items.append(v)
            return "ok", v
        if f == "enqueue":
            self.items.append(v)
            return "ok", v
        return "ok", self.items.pop(0) if self.items else None


def simulate(rnd: random.Random, model: str, n_ops: int, n_procs: int,
             crashes: bool = True) -> list[dict[str, Any]]:
    """Clients invoke ops; each takes effect atomically at a random moment inside
    its interval (or, if its client crashes first, later or never)."""
    ref = Ref(model)
    history: list[dict[str, Any]] = []
    idle = list(range(n_procs))
    next_proc = n_procs
    invoked: dict[int, dict[str, Any]] = {}
    applied: dict[int, tuple[dict[str, Any], str, Any]] = {}
    zombies: list[dict[str, Any]] = []
    issued = 0

    def emit(proc: int, type_: str, op: dict[str, Any], value: Any) -> None:
        rec = {"process": proc, "type": type_, "f": op["f"], "value": value}
        if "key" in op:
            rec["key"] = op["key"]
        history.append(rec)

    while issued < n_ops or invoked or applied:
        choices = []
        if issued < n_ops and idle:
            choices += ["invoke"] * 2
        if invoked:
            choices += ["apply"] * 3
        if applied:
            choices += ["complete"] * 3
        if crashes and (invoked or applied):
            choices.append("crash")
        if crashes and invoked:
            choices.append("fail")
        if zombies:
            choices.append("zombie")
        action = rnd.choice(choices)
        if action == "invoke":
            proc = idle.pop(rnd.randrange(len(idle)))
            op = ref.gen(rnd, issued)
            issued += 1
            invoked[proc] = op
            emit(proc, "invoke", op, op["value"])
        elif action == "apply":
            proc = rnd.choice(sorted(invoked))
            op = invoked.pop(proc)
            applied[proc] = (op, *ref.apply(op))
        elif action == "complete":
            proc = rnd.choice(sorted(applied))
            op, type_, value = applied.pop(proc)
            emit(proc, type_, op, value)
            idle.append(proc)
        elif action == "fail":  # definitely did not happen
            proc = rnd.choice(sorted(invoked))
            op = invoked.pop(proc)
            emit(proc, "fail", op, op["value"])
            idle.append(proc)
        elif action == "crash":  # outcome unknown; the client is replaced
            pool = sorted(invoked) + sorted(applied)
            proc = rnd.choice(pool)
            if proc in invoked:
                op = invoked.pop(proc)
                zombies.append(op)
            else:
                op = applied.pop(proc)[0]
            emit(proc, "info", op, op["value"])
            idle.append(next_proc)
            next_proc += 1
        else:
            op = zombies.pop(rnd.randrange(len(zombies)))
            if rnd.random() < 0.7:
                ref.apply(op)
    return history


MODELS = ["cas-register", "kv", "set", "fifo-queue"]


@SETTINGS
@given(rnd=st.randoms(use_true_random=False), model=st.sampled_from(MODELS),
       n_ops=st.integers(0, 40), n_procs=st.integers(1, 6))
def test_concurrent_runs_of_sequential_model_are_linearizable(
        rnd: random.Random, model: str, n_ops: int, n_procs: int) -> None:
    history = simulate(rnd, model, n_ops, n_procs)
    result = check(history, model)
    assert result.valid is True, (history, result.explain())


def _insert(rnd: random.Random, history: list[dict[str, Any]],
            ops: list[tuple[dict[str, Any], dict[str, Any]]],
            at_end: bool = False) -> list[dict[str, Any]]:
    """Insert sequential (invoke, ok) pairs of fresh processes at a random point
    (or at the end), each op completing before the next one is invoked."""
    at = len(history) if at_end else rnd.randint(0, len(history))
    seq: list[dict[str, Any]] = []
    for k, (inv, done) in enumerate(ops):
        proc = 1000 + k
        seq += [dict(inv, process=proc, type="invoke"), dict(done, process=proc, type="ok")]
    return history[:at] + seq + history[at:]


@SETTINGS
@given(rnd=st.randoms(use_true_random=False), model=st.sampled_from(MODELS),
       n_ops=st.integers(0, 30), n_procs=st.integers(1, 5))
def test_read_of_value_never_written_is_caught(
        rnd: random.Random, model: str, n_ops: int, n_procs: int) -> None:
    history = simulate(rnd, model, n_ops, n_procs)
    bogus = {
        "cas-register": ({"f": "read", "value": None}, {"f": "read", "value": 99}),
        "kv": ({"f": "get", "key": "a", "value": None}, {"f": "get", "key": "a", "value": "w"}),
        "set": ({"f": "read", "value": None}, {"f": "read", "value": [-1]}),
        "fifo-queue": ({"f": "dequeue", "value": None}, {"f": "dequeue", "value": -1}),
    }[model]
    at = rnd.randint(0, len(history))
    inv = dict(bogus[0], process=999, type="invoke")
    done = dict(bogus[1], process=999, type="ok")
    end = rnd.randint(at, len(history))
    mutated = history[:at] + [inv] + history[at:end] + [done] + history[end:]
    result = check(mutated, model)
    assert result.valid is False, mutated
    assert result.failure is not None and result.failure.op.process == 999


@SETTINGS
@given(rnd=st.randoms(use_true_random=False), model=st.sampled_from(["cas-register", "kv"]),
       n_ops=st.integers(0, 30), n_procs=st.integers(1, 5))
def test_stale_read_after_completed_write_is_caught(
        rnd: random.Random, model: str, n_ops: int, n_procs: int) -> None:
    history = simulate(rnd, model, n_ops, n_procs)
    if model == "kv":
        ops = [({"f": "put", "key": "b", "value": "old"}, {"f": "put", "key": "b", "value": "old"}),
               ({"f": "put", "key": "b", "value": "new"}, {"f": "put", "key": "b", "value": "new"}),
               ({"f": "get", "key": "b", "value": None}, {"f": "get", "key": "b", "value": "old"})]
    else:
        ops = [({"f": "write", "value": 100}, {"f": "write", "value": 100}),
               ({"f": "write", "value": 101}, {"f": "write", "value": 101}),
               ({"f": "read", "value": None}, {"f": "read", "value": 100})]
    mutated = _insert(rnd, history, ops)
    assert check(mutated, model).valid is False, mutated
    # Control: at the end, with a fresh read, the history stays linearizable.
    ops[2] = (ops[2][0], dict(ops[2][1], value=ops[1][1]["value"]))
    assert check(_insert(rnd, history, ops, at_end=True), model).valid is True


@SETTINGS
@given(rnd=st.randoms(use_true_random=False), n_ops=st.integers(0, 30),
       n_procs=st.integers(1, 5))
def test_lost_cas_is_caught(rnd: random.Random, n_ops: int, n_procs: int) -> None:
    history = simulate(rnd, "cas-register", n_ops, n_procs)
    ops = [({"f": "write", "value": 200}, {"f": "write", "value": 200}),
           ({"f": "cas", "value": [200, 201]}, {"f": "cas", "value": [200, 201]}),
           ({"f": "read", "value": None}, {"f": "read", "value": 200})]
    assert check(_insert(rnd, history, ops), "cas-register").valid is False
    ops[2] = (ops[2][0], {"f": "read", "value": 201})
    assert check(_insert(rnd, history, ops, at_end=True), "cas-register").valid is True
    # A cas that succeeded although the register held another value.
    wrong = [ops[0], ({"f": "cas", "value": [201, 202]}, {"f": "cas", "value": [201, 202]})]
    assert check(_insert(rnd, history, wrong), "cas-register").valid is False


@SETTINGS
@given(rnd=st.randoms(use_true_random=False), model=st.sampled_from(MODELS),
       n_ops=st.integers(1, 30), n_procs=st.integers(1, 5))
def test_verdict_does_not_depend_on_quantum(
        rnd: random.Random, model: str, n_ops: int, n_procs: int) -> None:
    history = simulate(rnd, model, n_ops, n_procs, crashes=False)
    assert check(history, model, quantum=1).valid is check(history, model).valid is True
