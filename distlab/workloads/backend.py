"""The Networker workloads: clients ask a node, and the node calls the `backend` service.

Every request carries a unique `id` (r1, r2, ...) that the node passes on to the
backend; the reply's `receipt` is the backend's, passed back. Each workload is
one situation: how the backend misbehaves (its Profile, set before the run) and
the rule its checker adds to the ones every Networker task has (see
distlab/checkers/backend.py). They differ only in data, so each is a few lines.

  request  {type: charge, id, amount [, budget_ms]}   reply {type: charge_ok, receipt}
           {type: notify | quote | report, id [, budget_ms]}   reply {type: <type>_ok, receipt}
"""

from __future__ import annotations

from typing import Any, ClassVar

from distlab.checkers.api import Checker
from distlab.checkers.backend import BackendChecker, Rules
from distlab.services.backend import Profile
from distlab.workloads.base import Op, Workload


class BackendWorkload(Workload):
    name = "backend-forward"
    profile: ClassVar[Profile] = Profile()
    rules: ClassVar[Rules] = Rules()
    mix: ClassVar[tuple[str, ...]] = ("charge",)  # request types, drawn uniformly
    budget_ms: ClassVar[int | None] = None  # sent with every request when set

    def __init__(self, params: Any, rng: Any) -> None:
        super().__init__(params, rng)
        self.count = 0

    def configure_services(self, services: dict[str, Any]) -> None:
        services["backend"].configure(self.profile)

    def next_op(self, process: int) -> Op:
        self.count += 1
        f = self.mix[0] if len(self.mix) == 1 else self.rng.choice(self.mix)
        value: dict[str, Any] = {"id": f"r{self.count}"}
        if f == "charge":
            value["amount"] = self.rng.randint(1, 100)
        if self.budget_ms is not None:
            value["budget_ms"] = self.budget_ms
        return Op(f, value)

    def request(self, op: Op) -> dict[str, Any]:
        return {"type": op.f, **op.value}

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        return reply["receipt"]

    def checker(self) -> Checker:
        return BackendChecker(self.rules, self.profile.outages)


class Forward(BackendWorkload):
    """A well-behaved backend: every call is answered in 5 ms."""

    name = "backend-forward"


class Timeouts(BackendWorkload):
    """One call in ten hangs for 2-4 s; every request must be answered within 1 s."""

    name = "backend-timeouts"
    profile = Profile(slow_p=0.1, slow=(2.0, 4.0))
    rules = Rules(answer_within_s=1.0)


class Rejections(BackendWorkload):
    """Two calls in five are rejected as busy (error 11: nothing done); run it with loss."""

    name = "backend-at-most-once"
    profile = Profile(reject_p=0.4)


class Notify(BackendWorkload):
    """Notifications, where a repeat is harmless; run it with loss."""

    name = "backend-at-least-once"
    mix = ("notify",)


class Exactly(BackendWorkload):
    """Charges over a lossy, duplicating link, with rejections; the backend takes idempotency keys."""

    name = "backend-exactly-once"
    profile = Profile(reject_p=0.1)


class Deadlines(BackendWorkload):
    """Each request has 300 ms; work takes 5 ms to 0.6 s and a third of calls are rejected after 100 ms."""

    name = "backend-deadlines"
    budget_ms = 300
    profile = Profile(slow_p=0.5, slow=(0.02, 0.6), reject_p=0.3, reject_after=0.1)
    rules = Rules(deadlines=True, answer_within_s=0.35)


OUTAGES = ((1.5, 3.5), (5.0, 7.0))


class FailFast(BackendWorkload):
    """The backend is down (no reply at all) from 1.5 to 3.5 s and from 5 to 7 s."""

    name = "backend-outages"
    profile = Profile(outages=OUTAGES)
    rules = Rules(max_calls_per_outage=40, fail_fast_ms=50)


class Recovery(BackendWorkload):
    """The same outages; after each, service must come back within a second."""

    name = "backend-recovery"
    profile = Profile(outages=OUTAGES)
    rules = Rules(max_calls_per_outage=20, fail_fast_ms=50, recover_within_s=1.0)


class Hedging(BackendWorkload):
    """Quotes take 10 ms, but one call in twenty takes 0.3-0.5 s: a tail to hedge against."""

    name = "backend-hedging"
    mix = ("quote",)
    profile = Profile(latency=0.01, slow_p=0.05, slow=(0.3, 0.5))
    rules = Rules(p99_ms=100, calls_per_op_max=1.3)


class Quota(BackendWorkload):
    """The backend accepts 50 calls in any second; clients ask for far more."""

    name = "backend-quota"
    mix = ("quote",)
    profile = Profile(quota=50)
    rules = Rules(quota=50, answer_within_s=0.2)


class Bulkheads(BackendWorkload):
    """Half the requests are 2-second reports; each caller may have 10 calls in progress."""

    name = "backend-bulkheads"
    mix = ("charge", "report")
    profile = Profile(pool=10, endpoint_seconds={"report": 2.0})
    rules = Rules(class_availability={"charge": 0.99})


class Gateway(BackendWorkload):
    """Everything at once: 600 ms budgets, a slow tail, rejections and an outage; run it with loss.
    Charges exactly once, no work after a deadline, few calls while it is down, back soon after."""

    name = "backend-gateway"
    budget_ms = 600
    profile = Profile(slow_p=0.2, slow=(0.02, 0.2), reject_p=0.1, outages=((1.5, 3.0),))
    rules = Rules(deadlines=True, answer_within_s=0.65, max_calls_per_outage=25, fail_fast_ms=50,
                  recover_within_s=1.5)  # a lost probe costs a cooldown more


WORKLOADS: tuple[type[BackendWorkload], ...] = (
    Forward, Timeouts, Rejections, Notify, Exactly, Deadlines, FailFast, Recovery, Hedging, Quota, Bulkheads,
    Gateway,
)
