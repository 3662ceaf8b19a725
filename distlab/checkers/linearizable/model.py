"""Sequential specifications (models) for the linearizability checker.

A model is a small class: `init()` gives the initial state, `step(state, input,
output)` says whether an operation with that input may return that output in
that state and what the state becomes. The checker memoizes `step` per
(operation, state), so a model may be written for clarity rather than speed,
but states must be hashable (or the model supplies `hash_state`).

`operation(invoke, complete)` turns Jepsen records into a model input/output;
it returns None for operations that constrain nothing (so the search never
sees them). `complete` is None when the outcome is unknown (`info`, or no
completion at all): the operation may take effect at any point after its call,
or never; `step` then receives `UNKNOWN` as the output.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable
from typing import Any


class _Unknown:
    """The output of an operation whose outcome is unknown (`info`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "?"


UNKNOWN: Any = _Unknown()


class Model(ABC):
    """Base class of a model; subclasses override `init`, `step` and `operation`.

    Optional hooks: `partition_key(input)` (P-compositionality: operations with
    different keys are checked independently, each from `init()`), `partition`
    for arbitrary splits, `hash_state` for unhashable states, and `describe_*`
    for explanations.
    """

    name = "model"

    @abstractmethod
    def init(self) -> Any:
        """The state before any operation."""

    @abstractmethod
    def step(self, state: Any, input: Any, output: Any) -> tuple[bool, Any]:
        """(legal, new state) for applying `input` with result `output` to `state`."""

    def operation(self, invoke: dict[str, Any], complete: dict[str, Any] | None) -> Any:
        """(input, output) for a call, or None to drop it; `complete` None means unknown.

        The default keeps Jepsen's shape: input (f, invoke value), output the
        completion value.
        """
        out = UNKNOWN if complete is None else complete.get("value")
        return (invoke.get("f"), _freeze(invoke.get("value"))), _freeze(out)

    def read_only(self, input: Any) -> bool:
        """True if this input never changes the state (whatever the state and output).

        Lets the search linearize such an operation as soon as it is legal and
        never try alternatives to it. Say True only when it is so: a wrong True
        can make a linearizable history look illegal.
        """
        return False

    def fixed_state(self, input: Any, output: Any) -> tuple[Any] | None:
        """Optional fast path: (s,) when this op's effect does not depend on `step`'s
        general logic: for a read-only op, s is the one state it is legal in; for
        any other op, s is the state it always leads to (a blind write). None
        (the default): ask `step`. Must agree with `step`."""
        return None

    def partition_key(self, input: Any) -> Hashable | None:
        """Key of the independent object `input` touches; None: no partitioning."""
        return None

    def partition(self, ops: list[Any]) -> list[list[Any]] | None:
        """Split operations (Operation objects) into independent sub-histories.

        The default groups by `partition_key`; return None for one partition.
        """
        keys: dict[Any, list[Any]] = {}
        for op in ops:
            k = self.partition_key(op.input)
            if k is None:
                return None
            keys.setdefault(k, []).append(op)
        return list(keys.values())

    def hash_state(self, state: Any) -> Hashable:
        """A hashable key equal for equal states (override for unhashable states)."""
        return state

    def describe_state(self, state: Any) -> str:
        return repr(state)

    def describe_op(self, input: Any, output: Any) -> str:
        if isinstance(input, tuple) and len(input) == 2:
            f, value = input
            text = f"{f} {value!r}" if value is not None else f"{f}"
        else:
            text = repr(input)
        if output is UNKNOWN:
            return text + " -> ?"
        return text if output is None else f"{text} -> {output!r}"


def _freeze(value: Any) -> Any:
    """Lists (from JSON/EDN) as tuples, so inputs and outputs are hashable."""
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


# Input tags of the built-in models: small strings compared by identity-fast ==.
READ, WRITE, CAS = "r", "w", "c"


class CasRegister(Model):
    """A single compare-and-set register: read, write v, cas [from to].

    `initial` is the value before any write. Two readings of Jepsen histories:
    with `nil_read_any` an ok read of nil constrains nothing (Knossos's reading,
    initial 0); without it nil means "absent" and the initial state is None.
    Failed ops never reach the model; an unknown cas takes effect (if at all)
    only when it would succeed, and an unknown read constrains nothing.
    """

    name = "cas-register"
    allow_cas = True

    def __init__(self, initial: Any = None, nil_read_any: bool = False) -> None:
        self.initial = initial
        self.nil_read_any = nil_read_any

    def init(self) -> Any:
        return self.initial

    def operation(self, invoke: dict[str, Any], complete: dict[str, Any] | None) -> Any:
        f = invoke.get("f")
        if f == "read":
            if complete is None:
                return None
            value = complete.get("value")
            if value is None and self.nil_read_any:
                return None
            return (READ, None), _freeze(value)
        if f == "write":
            return (WRITE, _freeze(invoke.get("value"))), None
        if f == "cas" and self.allow_cas:
            arg = invoke.get("value")
            if not isinstance(arg, list | tuple) or len(arg) != 2:
                raise ValueError(f"cas value must be [from to], got {arg!r}")
            return (CAS, (_freeze(arg[0]), _freeze(arg[1]))), None
        raise ValueError(f"{self.name}: unknown operation f={f!r}")

    def read_only(self, input: Any) -> bool:
        return input[0] == READ

    def fixed_state(self, input: Any, output: Any) -> tuple[Any] | None:
        if input[0] == READ:
            return None if output is UNKNOWN else (output,)
        return (input[1],) if input[0] == WRITE else None

    def step(self, state: Any, input: Any, output: Any) -> tuple[bool, Any]:
        kind, arg = input
        if kind is READ or kind == READ:
            return output is UNKNOWN or output == state, state
        if kind == WRITE:
            return True, arg
        if state == arg[0]:
            return True, arg[1]
        return False, state

    def describe_state(self, state: Any) -> str:
        return "nil" if state is None else repr(state)

    def describe_op(self, input: Any, output: Any) -> str:
        kind, arg = input
        if kind == READ:
            return f"read -> {self.describe_state(output)}"
        if kind == WRITE:
            return f"write {self.describe_state(arg)}"
        return f"cas {self.describe_state(arg[0])} -> {self.describe_state(arg[1])}"


class Register(CasRegister):
    """A read/write register (no cas); initially `initial` (default nil)."""

    name = "register"
    allow_cas = False


class KV(Model):
    """String key/value store: get, put, append; partitioned by key.

    As Porcupine's kv histories: a missing key reads as "", append concatenates.
    Each key is checked independently (P-compositionality), so a state is the
    one key's string.
    """

    name = "kv"

    def init(self) -> Any:
        return ""

    def operation(self, invoke: dict[str, Any], complete: dict[str, Any] | None) -> Any:
        f = invoke.get("f")
        key = _freeze(invoke.get("key"))
        if f == "get":
            if complete is None:
                return None
            value = complete.get("value")
            return (key, READ, None), "" if value is None else value
        if f == "put":
            return (key, WRITE, invoke.get("value") or ""), None
        if f == "append":
            return (key, "a", invoke.get("value") or ""), None
        raise ValueError(f"kv: unknown operation f={f!r}")

    def partition_key(self, input: Any) -> Hashable | None:
        return input[0]

    def read_only(self, input: Any) -> bool:
        return input[1] == READ

    def fixed_state(self, input: Any, output: Any) -> tuple[Any] | None:
        if input[1] == READ:
            return None if output is UNKNOWN else (output,)
        return (input[2],) if input[1] == WRITE else None

    def step(self, state: Any, input: Any, output: Any) -> tuple[bool, Any]:
        _key, kind, arg = input
        if kind == READ:
            return output is UNKNOWN or output == state, state
        if kind == WRITE:
            return True, arg
        return True, state + arg

    def monotone(self, input: Any) -> bool:
        """An append only extends the string (the search's dead-state pruning hook)."""
        return input[1] == "a"

    def extends(self, state: Any, later: Any) -> bool:
        """Appends alone can turn `state` into `later` only if it is a prefix of it
        (values that are not strings: no claim)."""
        if type(state) is str and type(later) is str:
            return later.startswith(state)
        return True

    def describe_op(self, input: Any, output: Any) -> str:
        key, kind, arg = input
        if kind == READ:
            return f"get {key!r} -> {output!r}"
        return f"{'put' if kind == WRITE else 'append'} {key!r} {arg!r}"


class KeyedCasRegister(CasRegister):
    """A map of compare-and-set registers, each key checked on its own (Maelstrom's lin-kv).

    Jepsen's `independent` shape: values are [key, v]: read [k, nil] -> [k, v],
    write [k, v], cas [k, [from, to]]. Keys start absent (nil).
    """

    name = "keyed-cas-register"

    def operation(self, invoke: dict[str, Any], complete: dict[str, Any] | None) -> Any:
        pair = invoke.get("value")
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ValueError(f"{self.name}: value must be [key, v], got {pair!r}")
        key = _freeze(pair[0])
        inner_invoke = {**invoke, "value": pair[1]}
        inner_complete = None
        if complete is not None:
            done = complete.get("value")
            inner_complete = {**complete, "value": done[1] if isinstance(done, list | tuple) and len(done) == 2 else done}
        inner = super().operation(inner_invoke, inner_complete)
        if inner is None:
            return None
        (input, output) = inner
        return (key, input), output

    def partition_key(self, input: Any) -> Hashable | None:
        return input[0]

    def read_only(self, input: Any) -> bool:
        return super().read_only(input[1])

    def fixed_state(self, input: Any, output: Any) -> tuple[Any] | None:
        return super().fixed_state(input[1], output)

    def step(self, state: Any, input: Any, output: Any) -> tuple[bool, Any]:
        return super().step(state, input[1], output)

    def describe_op(self, input: Any, output: Any) -> str:
        return f"key {input[0]!r}: {super().describe_op(input[1], output)}"


class SetModel(Model):
    """A grow-only set: add x, read -> all elements (order ignored)."""

    name = "set"

    def init(self) -> Any:
        return frozenset()

    def operation(self, invoke: dict[str, Any], complete: dict[str, Any] | None) -> Any:
        f = invoke.get("f")
        if f == "add":
            return ("add", _freeze(invoke.get("value"))), None
        if f == "read":
            if complete is None:
                return None
            return (READ, None), frozenset(_freeze(complete.get("value") or ()))
        raise ValueError(f"set: unknown operation f={f!r}")

    def read_only(self, input: Any) -> bool:
        return input[0] == READ

    def step(self, state: Any, input: Any, output: Any) -> tuple[bool, Any]:
        if input[0] == READ:
            return output is UNKNOWN or output == state, state
        return True, state | {input[1]}

    def describe_state(self, state: Any) -> str:
        try:
            return "#{" + " ".join(repr(v) for v in sorted(state)) + "}"
        except TypeError:
            return repr(set(state))


class FifoQueue(Model):
    """A FIFO queue: enqueue x, dequeue -> x (an ok dequeue of nil: queue empty).

    An unknown dequeue, if it happens, removes the head whatever it was.
    """

    name = "fifo-queue"

    def init(self) -> Any:
        return ()

    def operation(self, invoke: dict[str, Any], complete: dict[str, Any] | None) -> Any:
        f = invoke.get("f")
        if f == "enqueue":
            return ("enqueue", _freeze(invoke.get("value"))), None
        if f == "dequeue":
            out = UNKNOWN if complete is None else _freeze(complete.get("value"))
            return ("dequeue", None), out
        raise ValueError(f"fifo-queue: unknown operation f={f!r}")

    def step(self, state: Any, input: Any, output: Any) -> tuple[bool, Any]:
        if input[0] == "enqueue":
            return True, state + (input[1],)
        if output is UNKNOWN:
            return True, state[1:]
        if not state:
            return output is None, state
        return output == state[0], state[1:]


MODELS: dict[str, Model] = {
    "register": Register(),
    "cas-register": CasRegister(),
    "cas-register-knossos": CasRegister(initial=0, nil_read_any=True),
    "kv": KV(),
    "keyed-cas-register": KeyedCasRegister(),
    "set": SetModel(),
    "fifo-queue": FifoQueue(),
}


def get_model(name: str | Model) -> Model:
    """A built-in model by name (a Model instance is returned as is)."""
    if isinstance(name, Model):
        return name
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}") from None
