"""Tests for the nemesis: kind parsing, each fault's start/stop, heal_all, the schedule."""

from __future__ import annotations

import asyncio
import copy
import random
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import distlab.nemesis.schedule as nemesis_mod
from distlab.nemesis import FAULTS, KINDS, Fault, Nemesis, parse_kinds, unsupported
from distlab.runtime.network import PARTITIONS, Latency, Network
from distlab.runtime.protocols import CAPABILITIES

SETTINGS = settings(deadline=None, max_examples=40, derandomize=True)

BASE_LOSS, BASE_DUP = 0.05, 0.02


class FakeControl:
    """Records what the nemesis does and keeps the cluster state it implies."""

    def __init__(self, n: int = 5, seed: int = 0, now: Any = None) -> None:
        self.node_ids = [f"n{i}" for i in range(n)]
        self.network = Network(
            random.Random(seed), latency=Latency(0.01), loss=BASE_LOSS, duplication=BASE_DUP
        )
        self.now = now or (lambda: 0.0)
        self.calls: list[tuple[Any, ...]] = []
        self.records: list[tuple[str, Any]] = []
        self.times: list[float] = []
        self.crashed: set[str] = set()
        self.paused: set[str] = set()
        self.clocks: dict[str, dict[str, float]] = {}

    def _known(self, node_id: str) -> None:
        assert node_id in self.node_ids, node_id

    def crash(self, node_id: str) -> None:
        self._known(node_id)
        assert node_id not in self.crashed, f"{node_id} crashed twice"
        self.crashed.add(node_id)
        self.calls.append(("crash", node_id))

    async def restart(self, node_id: str) -> None:
        self._known(node_id)
        await asyncio.sleep(0)  # really async, like the runner's restart
        assert node_id in self.crashed, f"{node_id} restarted but was not crashed"
        self.crashed.remove(node_id)
        self.calls.append(("restart", node_id))

    def pause(self, node_id: str) -> None:
        self._known(node_id)
        assert node_id not in self.paused
        self.paused.add(node_id)
        self.calls.append(("pause", node_id))

    def resume(self, node_id: str) -> None:
        self._known(node_id)
        assert node_id in self.paused, f"{node_id} resumed but was not paused"
        self.paused.remove(node_id)
        self.calls.append(("resume", node_id))

    def set_clock(self, node_id: str, **clock: float) -> None:
        self._known(node_id)
        self.clocks[node_id] = dict(clock)
        self.calls.append(("set_clock", node_id, tuple(sorted(clock.items()))))

    def reset_clock(self, node_id: str) -> None:
        self._known(node_id)
        assert node_id in self.clocks, f"{node_id} clock reset but never set"
        del self.clocks[node_id]
        self.calls.append(("reset_clock", node_id))

    def record(self, f: str, value: Any) -> None:
        self.records.append((f, copy.deepcopy(value)))
        self.times.append(self.now())

    def pristine(self) -> bool:
        net = self.network
        return (
            not self.crashed
            and not self.paused
            and not self.clocks
            and net.grudge == {}
            and (net.loss, net.duplication) == (BASE_LOSS, BASE_DUP)
        )


def make(n: int = 5, seed: int = 0, kinds: list[str] | None = None, interval: float = 1.0):
    control = FakeControl(n, seed)
    nem = Nemesis(list(KINDS) if kinds is None else kinds, interval, random.Random(seed), control)
    return nem, control


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def target_sizes(n: int) -> set[int]:
    return {1, max(1, (n - 1) // 2), n // 2 + 1, n}


# ----- parse_kinds ----------------------------------------------------------------


def test_kinds():
    assert KINDS == ("partition", "kill", "pause", "clock", "loss")


@pytest.mark.parametrize(
    "spec,expected",
    [
        ("partition,kill", ["partition", "kill"]),
        ("kill,partition", ["kill", "partition"]),
        ("loss", ["loss"]),
        (" pause , clock ", ["pause", "clock"]),
        ("kill,kill,pause,kill", ["kill", "pause"]),
        ("partition,kill,pause,clock,loss", list(KINDS)),
        ("none", []),
        ("none,loss", ["loss"]),
        (",,clock,", ["clock"]),
        ("", []),
        (None, []),
        ([], []),
        (["loss", "loss", "none", ""], ["loss"]),
        ([" kill "], ["kill"]),
    ],
)
def test_parse_kinds(spec, expected):
    assert parse_kinds(spec) == expected


@pytest.mark.parametrize("spec,bad", [("partiton", "partiton"), ("kill,crash", "crash"), (["loss", "dup"], "dup")])
def test_parse_kinds_unknown(spec, bad):
    with pytest.raises(ValueError) as err:
        parse_kinds(spec)
    msg = str(err.value)
    assert repr(bad) in msg
    for kind in KINDS:
        assert kind in msg


def test_parse_kinds_returns_fresh_list():
    spec = ["kill"]
    out = parse_kinds(spec)
    out.append("loss")
    assert spec == ["kill"]


# ----- construction -----------------------------------------------------------------


@pytest.mark.parametrize("interval", [0, 0.0, -1.0])
def test_interval_must_be_positive(interval):
    with pytest.raises(ValueError, match="nemesis-interval must be positive"):
        Nemesis(["kill"], interval, random.Random(0), FakeControl())


# ----- each kind ---------------------------------------------------------------------


@SETTINGS
@given(st.integers(2, 9), st.integers(0, 2**32 - 1))
def test_partition_start_stop(n, seed):
    nem, c = make(n, seed)
    run(nem.start("partition"))
    grudge = c.network.grudge
    assert grudge, "partition left the network whole"
    assert all(senders for senders in grudge.values())
    nodes = set(c.node_ids)
    for receiver, senders in grudge.items():
        assert receiver in nodes and senders <= nodes and receiver not in senders
    (f, value), = c.records
    assert f == "start-partition"
    assert value["shape"] in PARTITIONS
    if n <= 2:
        assert value["shape"] == "isolate-one"
    assert value["grudge"] == {k: sorted(v) for k, v in grudge.items()}
    assert list(value["grudge"]) == sorted(value["grudge"])
    assert nem.active == {"partition": value}
    # the network actually drops cross-partition traffic
    assert any(c.network.blocked(s, r) for r in c.node_ids for s in c.node_ids)

    run(nem.stop("partition"))
    assert c.network.grudge == {}
    assert not any(c.network.blocked(s, r) for r in c.node_ids for s in c.node_ids)
    assert c.records[-1] == ("stop-partition", "network healed")
    assert nem.active == {}
    assert c.pristine()
    assert c.calls == []  # a partition touches only the network


def test_partition_uses_every_shape():
    shapes = set()
    for seed in range(60):
        nem, c = make(6, seed)
        run(nem.start("partition"))
        shapes.add(c.records[0][1]["shape"])
    assert shapes == set(PARTITIONS)


@SETTINGS
@given(st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_kill_start_stop(n, seed):
    nem, c = make(n, seed)
    run(nem.start("kill"))
    (f, targets), = c.records
    assert f == "start-kill"
    assert targets == sorted(set(targets))
    assert len(targets) in target_sizes(n)
    assert set(targets) <= set(c.node_ids)
    assert c.crashed == set(targets)
    assert c.calls == [("crash", t) for t in targets]
    assert nem.active == {"kill": targets}

    run(nem.stop("kill"))
    assert c.calls[len(targets):] == [("restart", t) for t in targets]
    assert c.crashed == set()
    assert c.records[-1] == ("stop-kill", targets)
    assert nem.active == {}
    assert c.pristine()


def test_targets_cover_one_minority_majority_all():
    sizes = set()
    for seed in range(80):
        nem, c = make(7, seed, kinds=["kill"])
        run(nem.start("kill"))
        sizes.add(len(c.records[0][1]))
    assert sizes == {1, 3, 4, 7}


@SETTINGS
@given(st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_pause_start_stop(n, seed):
    nem, c = make(n, seed)
    run(nem.start("pause"))
    (f, targets), = c.records
    assert f == "start-pause"
    assert targets == sorted(set(targets))
    assert len(targets) in target_sizes(n)
    assert c.paused == set(targets)
    assert c.calls == [("pause", t) for t in targets]
    assert c.crashed == set()

    run(nem.stop("pause"))
    assert c.calls[len(targets):] == [("resume", t) for t in targets]
    assert c.paused == set()
    assert c.records[-1] == ("stop-pause", targets)
    assert c.pristine()


CLOCK_KEYS = {
    "bump": {"offset"},
    "strobe": {"strobe_delta", "strobe_period"},
    "drift": {"drift"},
}


@SETTINGS
@given(st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_clock_start_stop(n, seed):
    nem, c = make(n, seed)
    run(nem.start("clock"))
    (f, value), = c.records
    assert f == "start-clock"
    assert len(value) in target_sizes(n)
    assert set(value) == set(c.clocks)
    modes = {v["mode"] for v in value.values()}
    assert len(modes) == 1
    (mode,) = modes
    for node, clock in c.clocks.items():
        assert set(clock) == CLOCK_KEYS[mode]
        assert value[node] == {"mode": mode, **clock}
        if mode == "bump":
            assert -60 <= clock["offset"] <= 60
        elif mode == "strobe":
            assert -0.5 <= clock["strobe_delta"] <= 0.5 and clock["strobe_period"] > 0
        else:
            assert -0.1 <= clock["drift"] <= 0.1
    assert [call[1] for call in c.calls] == sorted(value)

    run(nem.stop("clock"))
    assert c.clocks == {}
    assert c.calls[len(value):] == [("reset_clock", node) for node in sorted(value)]
    assert c.records[-1] == ("stop-clock", sorted(value))
    assert c.pristine()


def test_clock_uses_every_mode():
    modes = set()
    for seed in range(40):
        nem, c = make(4, seed)
        run(nem.start("clock"))
        modes |= {v["mode"] for v in c.records[0][1].values()}
    assert modes == set(CLOCK_KEYS)


@SETTINGS
@given(st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_loss_start_stop(n, seed):
    nem, c = make(n, seed)
    run(nem.start("loss"))
    (f, value), = c.records
    assert f == "start-loss"
    assert value == {"loss": c.network.loss, "duplication": c.network.duplication}
    assert 0.1 <= c.network.loss <= 0.5
    assert 0.0 <= c.network.duplication <= 0.3
    assert (c.network.loss, c.network.duplication) != (BASE_LOSS, BASE_DUP)

    run(nem.stop("loss"))
    assert (c.network.loss, c.network.duplication) == (BASE_LOSS, BASE_DUP)
    assert c.records[-1] == ("stop-loss", "loss restored")
    assert c.pristine()
    assert c.calls == []


def test_loss_burst_drops_messages():
    nem, c = make(3, 5)
    run(nem.start("loss"))
    lost = sum(not c.network.delays("n0", "n1") for _ in range(2000))
    assert lost / 2000 == pytest.approx(c.network.loss, abs=0.05)


def test_unknown_kind_rejected():
    nem, c = make()
    with pytest.raises(ValueError):
        run(nem.start("flood"))
    assert c.records == [] and nem.active == {}


# ----- heal_all -----------------------------------------------------------------------


def test_heal_all_stops_every_active_kind():
    nem, c = make(5, 3)

    async def scenario():
        for kind in ("loss", "kill", "partition", "clock", "pause"):
            await nem.start(kind)
        assert set(nem.active) == set(KINDS)
        assert not c.pristine()
        await nem.heal_all()

    run(scenario())
    assert nem.active == {}
    assert c.pristine()
    stops = [f for f, _ in c.records[5:]]
    assert stops == [f"stop-{k}" for k in KINDS]
    assert nem.counts == {**{f"start-{k}": 1 for k in KINDS}, **{f"stop-{k}": 1 for k in KINDS}}


def test_heal_all_only_active_kinds():
    nem, c = make(5, 4)

    async def scenario():
        await nem.start("pause")
        await nem.start("partition")
        await nem.stop("pause")
        await nem.heal_all()
        await nem.heal_all()  # idempotent

    run(scenario())
    assert [f for f, _ in c.records] == [
        "start-pause",
        "start-partition",
        "stop-pause",
        "stop-partition",
    ]
    assert c.pristine()


def test_heal_all_with_nothing_active():
    nem, c = make()
    run(nem.heal_all())
    assert c.records == [] and c.calls == []


# ----- the schedule -------------------------------------------------------------------


class FakeClock:
    """Virtual time for Nemesis.run: sleeping advances it exactly."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.t += delay
        await asyncio.sleep(0)


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(nemesis_mod, "asyncio", SimpleNamespace(sleep=fake.sleep))
    return fake


def scheduled(clock: FakeClock, kinds: list[str], seed: int, interval: float, until: float, n: int = 5,
              schedule: str = "stagger"):
    c = FakeControl(n, seed, now=clock.now)
    nem = Nemesis(kinds, interval, random.Random(seed), c, schedule)
    run(nem.run(until, clock.now))
    return nem, c


def check_alternation(records: list[tuple[str, Any]]) -> None:
    """Per kind: start, stop, start, ...; each stop names what its start did."""
    last: dict[str, tuple[str, Any]] = {}
    for f, value in records:
        action, kind = f.split("-", 1)
        assert kind in KINDS
        prev = last.get(kind)
        if action == "start":
            assert prev is None or prev[0] == "stop", f"{kind} started twice"
        else:
            assert action == "stop"
            assert prev is not None and prev[0] == "start", f"{kind} stopped while inactive"
            if kind in ("kill", "pause"):
                assert value == prev[1]
            elif kind == "clock":
                assert value == sorted(prev[1])
        last[kind] = (action, value)


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def test_run_staggers_changes_as_jepsen_does(clock):
    """The first change at the start, then gaps uniform in [0, 2 x interval); none at or after `until`."""
    nem, c = scheduled(clock, ["partition"], seed=1, interval=1.0, until=10.0)
    assert c.times[0] == 0.0
    assert all(0.0 <= g < 2.0 for g in gaps(c.times))
    assert all(t < 10.0 for t in c.times)
    assert len(set(gaps(c.times))) == len(c.times) - 1  # staggered, not a fixed period
    fs = [f for f, _ in c.records]
    assert fs == ["start-partition", "stop-partition"] * (len(fs) // 2) + ["start-partition"] * (len(fs) % 2)
    run(nem.heal_all())
    assert c.pristine()
    assert c.records[-1] == ("stop-partition", "network healed")


def test_run_interval_is_the_mean_gap(clock):
    nem, c = scheduled(clock, ["partition"], seed=2, interval=0.5, until=5000.0)
    g = gaps(c.times)
    assert 0.97 * 0.5 < sum(g) / len(g) < 1.03 * 0.5
    assert max(g) < 1.0 and min(g) >= 0.0
    assert sum(x < 0.5 for x in g) / len(g) == pytest.approx(0.5, abs=0.03)  # uniform: half below the mean


def test_run_shorter_than_the_interval_still_sees_a_fault(clock):
    """Maelstrom's `--time-limit 10 --nemesis partition` (interval 10) partitions at once."""
    for seed in range(20):
        clock.t = 0.0
        nem, c = scheduled(clock, ["partition"], seed=seed, interval=10.0, until=10.0)
        assert c.records[0][0] == "start-partition" and c.times[0] == 0.0
        assert nem.warnings() == []


def test_run_with_the_limit_already_passed_does_nothing(clock):
    nem, c = scheduled(clock, list(KINDS), seed=3, interval=5.0, until=0.0)
    assert c.records == [] and clock.sleeps == []
    assert c.pristine()
    assert nem.warnings() == ["--nemesis partition,kill,pause,clock,loss: no fault was injected "
                              "(the run ended before any was due)"]


def test_a_slow_change_does_not_push_the_schedule_back_nor_past_the_limit(clock):
    """Changes are due on the stagger's clock; one that falls due during a slow restart runs right after it."""

    class SlowRestart(FakeControl):
        async def restart(self, node_id: str) -> None:
            await clock.sleep(30.0)
            await super().restart(node_id)

    c = SlowRestart(5, 4, now=clock.now)
    nem = Nemesis(["kill"], 1.0, random.Random(4), c)
    run(nem.run(10.0, clock.now))
    # start-kill at 0; stop-kill due before 2 takes 30 s; the next change fell due long before 30 s, past the limit
    assert [f for f, _ in c.records] == ["start-kill", "stop-kill"]
    assert c.times[0] == 0.0 and c.times[1] >= 30.0
    assert clock.t >= 30.0


def test_fixed_schedule_toggles_every_interval_until_before_end(clock):
    nem, c = scheduled(clock, ["partition"], seed=1, interval=1.0, until=10.0, schedule="fixed")
    # toggles at t = 1, 2, ..., 9; none at or after `until`
    assert c.times == [float(t) for t in range(1, 10)]
    assert [f for f, _ in c.records] == ["start-partition", "stop-partition"] * 4 + ["start-partition"]
    assert clock.sleeps == [1.0] * 9
    run(nem.heal_all())
    assert c.pristine()


def test_fixed_schedule_fractional_interval(clock):
    nem, c = scheduled(clock, ["kill"], seed=2, interval=0.25, until=3.0, schedule="fixed")
    assert c.times == [0.25 * k for k in range(1, 12)]
    check_alternation(c.records)


def test_fixed_schedule_shorter_than_the_interval_injects_nothing_and_says_so(clock):
    nem, c = scheduled(clock, ["partition"], seed=3, interval=10.0, until=10.0, schedule="fixed")
    assert c.records == [] and clock.sleeps == []
    [warning] = nem.warnings()
    assert warning.startswith("--nemesis partition: no fault was injected (the fixed schedule's first change")


def test_unknown_schedule_rejected():
    with pytest.raises(ValueError, match="unknown nemesis schedule 'weekly'"):
        Nemesis(["kill"], 1.0, random.Random(0), FakeControl(), "weekly")


def test_warnings_name_kinds_never_injected_and_a_one_node_partition(clock):
    nem, c = scheduled(clock, ["partition", "kill"], seed=0, interval=100.0, until=1.0)
    assert len(c.records) == 1  # one change, at the start
    missing = "kill" if c.records[0][0] == "start-partition" else "partition"
    [warning] = nem.warnings()
    assert warning.startswith(f"--nemesis {missing}: never injected in this run")
    clock.t = 0.0
    nem, c = scheduled(clock, ["partition"], seed=0, interval=1.0, until=5.0, n=1)
    assert nem.warnings() == ["--nemesis partition with a single node: there is no other node to cut it off from"]


def test_run_without_kinds_returns_at_once(clock):
    nem, c = scheduled(clock, [], seed=3, interval=1.0, until=100.0)
    assert c.records == [] and clock.sleeps == [] and nem.active == {}


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(2, 8))
def test_run_all_kinds_consistent_then_heal(seed, n):
    fake = FakeClock()
    original = nemesis_mod.asyncio
    nemesis_mod.asyncio = SimpleNamespace(sleep=fake.sleep)  # type: ignore[assignment]
    try:
        nem, c = scheduled(fake, list(KINDS), seed=seed, interval=0.5, until=20.0, n=n)
    finally:
        nemesis_mod.asyncio = original
    assert len(c.records) > 20
    assert c.times[0] == 0.0 and all(t < 20.0 for t in c.times)
    check_alternation(c.records)
    assert set(nem.active) == {
        kind
        for kind in KINDS
        if sum(f == f"start-{kind}" for f, _ in c.records)
        > sum(f == f"stop-{kind}" for f, _ in c.records)
    }
    for f in {f for f, _ in c.records}:
        assert nem.counts[f] == sum(g == f for g, _ in c.records)
    run(nem.heal_all())
    assert nem.active == {}
    assert c.pristine()
    check_alternation(c.records)


def test_run_uses_several_kinds(clock):
    nem, c = scheduled(clock, list(KINDS), seed=9, interval=1.0, until=60.0)
    assert {f.split("-", 1)[1] for f, _ in c.records} == set(KINDS)


def test_run_deterministic(clock):
    def once(seed: int) -> tuple[list[Any], list[float], list[Any]]:
        clock.t = 0.0
        nem, c = scheduled(clock, list(KINDS), seed=seed, interval=1.0, until=30.0)
        return c.records, c.times, c.calls

    first = once(1234)
    assert first == once(1234)
    assert first[0] != once(1235)[0]


def test_direct_calls_deterministic():
    def once(seed: int) -> list[Any]:
        nem, c = make(6, seed)

        async def scenario():
            for kind in KINDS:
                await nem.start(kind)
            await nem.heal_all()

        run(scenario())
        return c.records

    assert once(77) == once(77)
    assert once(77) != once(78)


def test_run_on_real_event_loop():
    """A plain asyncio loop and real time: a tiny interval toggles, and run stops at `until`.

    No stopwatch: a change starts only after `now()` was read below `until`, so every
    change but the last (whose sleep may overrun it on a busy machine) is before it.
    """

    async def main():
        loop = asyncio.get_running_loop()
        c = FakeControl(5, 0, now=loop.time)
        nem = Nemesis(["partition", "pause", "loss"], 0.002, random.Random(0), c)
        until = loop.time() + 0.2
        await asyncio.wait_for(nem.run(until, loop.time), timeout=30)  # bounds a failure only
        toggles = len(c.records)
        await nem.heal_all()
        return c, until, toggles

    c, until, toggles = asyncio.run(main())
    assert toggles >= 1  # the first change comes at once
    assert all(t < until for t in c.times[: toggles - 1])
    check_alternation(c.records)
    assert c.pristine()


@pytest.mark.parametrize("kind", ["kill", "pause", "clock"])
def test_starting_an_active_kind_heals_the_old_fault_first(kind: str) -> None:
    control = FakeControl(n=5, seed=3)
    nem = Nemesis([kind], 1.0, random.Random(3), control)
    asyncio.run(nem.start(kind))
    asyncio.run(nem.start(kind))
    asyncio.run(nem.heal_all())
    assert not control.crashed and not control.paused and not control.clocks
    assert [f for f, _ in control.records] == [f"start-{kind}", f"stop-{kind}", f"start-{kind}", f"stop-{kind}"]


# ----- the registry: one module per fault ------------------------------------------


def test_registry_lists_one_module_per_fault() -> None:
    import importlib

    assert tuple(FAULTS) == KINDS
    for name, fault in FAULTS.items():
        assert fault.name == name
        assert importlib.import_module(f"distlab.nemesis.{name}").FAULT is fault


def test_needs_come_from_the_fault_and_the_runtime_capabilities() -> None:
    assert unsupported(list(KINDS), CAPABILITIES["sim"]) is None
    assert unsupported(["partition", "kill", "pause", "loss"], CAPABILITIES["process"]) is None
    assert unsupported(["kill", "clock"], CAPABILITIES["process"]) == (
        "--nemesis clock needs the simulator: real processes read the real clock"
    )


def test_a_new_fault_is_one_registry_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The schedule picks among whatever is registered: a fault added there is started and healed."""
    log: list[str] = []

    async def start(c: Any, rng: random.Random) -> Any:
        log.append("start")
        return {"victim": rng.choice(c.node_ids)}

    async def stop(c: Any, value: Any) -> Any:
        log.append("stop")
        return value["victim"]

    monkeypatch.setitem(FAULTS, "flood", Fault("flood", start, stop, needs={"raw-sockets": "a real network"}))
    assert parse_kinds("flood") == ["flood"]
    assert unsupported(["flood"], CAPABILITIES["sim"]) == "--nemesis flood needs a real network"
    nem, c = make(kinds=["flood"])
    run(nem.start("flood"))
    run(nem.heal_all())
    assert log == ["start", "stop"]
    assert [f for f, _ in c.records] == ["start-flood", "stop-flood"]
