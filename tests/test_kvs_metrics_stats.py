"""RequestStats (plain numbers read at scrape time) must expose exactly what prometheus_client's
Counter and Histogram gave for the same requests: same samples, same order, same values,
durations on a bucket's bound included."""

from __future__ import annotations

import random

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

from distlab.systems.kvs import metrics as metrics_module
from distlab.systems.kvs.metrics import COMMANDS, REQUEST_BUCKETS, RequestStats


def prometheus_text(events: list[tuple[int, float, bool]]) -> bytes:
    registry = CollectorRegistry()
    requests = Counter(
        "kvs_requests", "Commands answered, by command.", ["command"], registry=registry
    )
    errors = Counter(
        "kvs_request_errors",
        "Commands answered with an error, by command.",
        ["command"],
        registry=registry,
    )
    latency = Histogram(
        "kvs_request_duration_seconds",
        "Time to execute a command (engine call included, group fsync wait excluded).",
        ["command"],
        buckets=REQUEST_BUCKETS,
        registry=registry,
    )
    for name in COMMANDS:
        requests.labels(name)
        errors.labels(name)
        latency.labels(name)
    for i, seconds, error in events:
        requests.labels(COMMANDS[i]).inc()
        if error:
            errors.labels(COMMANDS[i]).inc()
        latency.labels(COMMANDS[i]).observe(seconds)
    return generate_latest(registry)


def stats_text(events: list[tuple[int, float, bool]]) -> bytes:
    registry = CollectorRegistry()
    stats = RequestStats()
    registry.register(stats)  # type: ignore[arg-type]
    for i, seconds, error in events:
        stats.record(i, seconds, error)
    return generate_latest(registry)


@pytest.mark.parametrize("seed", range(5))
def test_same_exposition_as_prometheus_client(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setattr(time, "time", lambda: 1_700_000_000.0)  # the _created samples
    rng = random.Random(seed)
    durations = [*REQUEST_BUCKETS, 0.0, 2.0, 1e-7]  # bounds are inclusive (le)
    events = [
        (
            rng.randrange(len(COMMANDS)),
            rng.choice(durations) if rng.random() < 0.3 else rng.expovariate(2000),
            rng.random() < 0.1,
        )
        for _ in range(rng.randrange(0, 400))
    ]
    assert stats_text(events) == prometheus_text(events)


def test_handler_counts_through_the_stats(tmp_path) -> None:  # noqa: ANN001
    from distlab.systems.kvs.commands import Session
    from distlab.systems.kvs.resp import make_command_parser
    from distlab.systems.kvs.store import KvStore

    store = KvStore.open(tmp_path, fsync="never")
    m = metrics_module.KvsMetrics(store)
    handler = m.handler(store)
    session = Session(make_command_parser())
    handler.execute([b"SET", b"a", b"1"], session)
    handler.execute([b"get", b"a"], session)
    handler.execute([b"NOPE"], session)
    handler.execute([b"SET", b"a"], session)
    stats = m.requests
    at = {name: i for i, name in enumerate(COMMANDS)}
    assert stats.requests[at["set"]] == 2 and stats.errors[at["set"]] == 1
    assert stats.requests[at["get"]] == 1 and stats.errors[at["get"]] == 0
    assert stats.requests[at["other"]] == 1 and stats.errors[at["other"]] == 1
    assert sum(stats.buckets[at["set"]]) == 2
    store.close()
