"""echo-validation and schema-validation: good requests mixed with malformed ones.

A server meets requests it did not expect: a missing field, a number where a string
belongs, a message type it never heard of. These workloads send such requests among
good ones. Every good request must be answered correctly (extra fields it does not
know must be ignored, optional ones may be left out); every malformed one must get
an error reply with Maelstrom's code: 12 (malformed-request) for a known type with
bad fields, 10 (not-supported) for an unknown type. Never a crash (13), never an
answer as if it were fine, never silence.

- echo-validation: `echo{echo: string}` -> `echo_ok{echo}`.
- schema-validation: the same, plus `add{a: integer, b: integer}` -> `add_ok{sum}` and
  `join{parts: [string, ...], sep?: string (default " ")}` -> `join_ok{text}`; JSON's
  types are strict: true is not an integer, 1.5 is not one either.

Each operation is recorded as f = "call" with the request and what is expected, so
the checker (distlab/checkers/validation.py) judges every reply on its own.
"""

from __future__ import annotations

import copy
from typing import Any

from distlab.checkers import validation
from distlab.checkers.api import Checker, FunctionChecker
from distlab.workloads.base import Op, Workload

BAD_P = 0.4  # how often a request is malformed (or of an unknown type)
EXTRA_P = 0.3  # how often a good request carries a field the node does not know


def _case(body: dict[str, Any], expect: str | int, why: str) -> dict[str, Any]:
    return {"request": body, "expect": expect, "why": why}


ECHO_PROBES = ["echo_please", "ping", "Echo"]  # types no echo service defines (in the order drawn)


class EchoValidation(Workload):
    name = "echo-validation"
    probe_types = frozenset(ECHO_PROBES)
    read_only = frozenset({"call"})  # no request changes anything: a timeout is a plain failure

    def _good(self) -> dict[str, Any]:
        text = f"Please echo {self.rng.randrange(128)}"
        return _case({"type": "echo", "echo": text}, "ok", "")

    def _bad(self) -> dict[str, Any]:
        wrong = [(42, "a number"), (None, "null"), (["hi"], "an array"), ({"text": "hi"}, "an object"),
                 (True, "a boolean")]
        roll = self.rng.random()
        if roll < 0.3:
            return _case({"type": "echo"}, 12, "field 'echo' is missing")
        if roll < 0.8:
            value, kind = self.rng.choice(wrong)
            return _case({"type": "echo", "echo": value}, 12, f"field 'echo' is {kind}, not a string")
        return _case({"type": self.rng.choice(ECHO_PROBES), "echo": "hi"}, 10,
                     "a message type this service does not define")

    def _extras(self, case: dict[str, Any]) -> dict[str, Any]:
        return case

    def next_op(self, process: int) -> Op:
        case = self._bad() if self.rng.random() < BAD_P else self._extras(self._good())
        return Op("call", case)

    def request(self, op: Op) -> dict[str, Any]:
        return copy.deepcopy(op.value["request"])

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        return {k: v for k, v in reply.items() if k not in ("msg_id", "in_reply_to")}

    def checker(self) -> Checker:
        return FunctionChecker(validation.check, anomaly_keys=validation.ANOMALIES)


SCHEMA_PROBES = ["subtract", "split", "ADD"]  # types the schema service does not define


class SchemaValidation(EchoValidation):
    name = "schema-validation"
    probe_types = EchoValidation.probe_types | frozenset(SCHEMA_PROBES)

    def _good(self) -> dict[str, Any]:
        roll = self.rng.random()
        if roll < 0.3:
            return super()._good()
        if roll < 0.65:
            a, b = self.rng.randrange(-50, 100), self.rng.randrange(-50, 100)
            return _case({"type": "add", "a": a, "b": b}, "ok", "")
        parts = [self.rng.choice(["red", "green", "blue", "", "x y"]) for _ in range(self.rng.randrange(0, 4))]
        body: dict[str, Any] = {"type": "join", "parts": parts}
        if self.rng.random() < 0.5:
            body["sep"] = self.rng.choice(["-", ", ", ""])
        return _case(body, "ok", "" if "sep" in body else "no 'sep': the default is one space")

    def _extras(self, case: dict[str, Any]) -> dict[str, Any]:
        if self.rng.random() < EXTRA_P:
            case["request"]["trace_id"] = f"t{self.rng.randrange(1000)}"
            extra = "an extra field 'trace_id', which must be ignored"
            case["why"] = f"{case['why']}; {extra}" if case["why"] else extra
        return case

    def _bad(self) -> dict[str, Any]:
        roll = self.rng.random()
        if roll < 0.15:
            return super()._bad()
        if roll < 0.55:
            field, other = self.rng.choice([("a", "b"), ("b", "a")])
            wrong = [(True, "a boolean"), (1.5, "a fraction"), ("3", "a string"), (None, "null"), ([3], "an array")]
            if self.rng.random() < 0.2:
                return _case({"type": "add", other: 2}, 12, f"field {field!r} is missing")
            value, kind = self.rng.choice(wrong)
            return _case({"type": "add", field: value, other: 2}, 12, f"field {field!r} is {kind}, not an integer")
        if roll < 0.9:
            pick = self.rng.random()
            if pick < 0.2:
                return _case({"type": "join", "sep": "-"}, 12, "field 'parts' is missing")
            if pick < 0.4:
                return _case({"type": "join", "parts": "red green"}, 12, "field 'parts' is a string, not an array")
            if pick < 0.75:
                value, kind = self.rng.choice([(7, "a number"), (None, "null"), (["x"], "an array"), (False, "a boolean")])
                return _case({"type": "join", "parts": ["red", value, "blue"]}, 12,
                             f"element 1 of 'parts' is {kind}, not a string")
            value, kind = self.rng.choice([(5, "a number"), (None, "null"), ([","], "an array")])
            return _case({"type": "join", "parts": ["red", "blue"], "sep": value}, 12,
                         f"field 'sep' is {kind}, not a string")
        return _case({"type": self.rng.choice(SCHEMA_PROBES), "a": 1, "b": 2}, 10,
                     "a message type this service does not define")
