"""distlab.fail: fail-rs's semantics, case by case (its lib.rs and tests/tests.rs cases)."""

from __future__ import annotations

import logging
import queue
import threading
import time

import pytest

from distlab import fail
from distlab.fail import FailPointError, FailPointPanic, FailScenario, Returned


@pytest.fixture(autouse=True)
def scenario():
    with FailScenario(environ={}) as s:
        yield s


def returns_value() -> int:
    """The shape of fail-rs's ``fail_point!("p", |s| s.map_or(2, |s| s.parse().unwrap()))``."""
    r = fail.fail_return("ret")
    if r is not None:
        return 2 if r.arg is None else int(r.arg)
    return 0


def test_unconfigured_and_off_do_nothing():
    assert returns_value() == 0
    fail.cfg("ret", "off")
    assert returns_value() == 0
    fail.fail_point("nobody-configured-this")


def test_return_with_and_without_argument():
    fail.cfg("ret", "return(1000)")
    assert returns_value() == 1000
    fail.cfg("ret", "return")
    assert returns_value() == 2
    assert fail.fail_return("ret") == Returned(None)


def test_return_at_a_plain_fail_point_is_a_panic_naming_the_point():
    fail.cfg("plain", "return")
    with pytest.raises(FailPointPanic, match='"plain"'):
        fail.fail_point("plain")


def test_sleep_sleeps_at_least_the_milliseconds():
    fail.cfg("s", "sleep(60)")
    t0 = time.monotonic()
    fail.fail_point("s")
    assert time.monotonic() - t0 >= 0.06


def test_delay_busy_waits_at_least_the_milliseconds():
    fail.cfg("d", "delay(30)")
    t0 = time.monotonic()
    fail.fail_point("d")
    assert time.monotonic() - t0 >= 0.03


def test_panic_with_and_without_message():
    fail.cfg("p", "panic(disk on fire)")
    with pytest.raises(FailPointPanic, match="disk on fire"):
        fail.fail_point("p")
    fail.cfg("p", "panic")
    with pytest.raises(FailPointPanic, match="failpoint p panic"):
        fail.fail_point("p")


def test_panic_is_not_caught_by_except_exception():
    fail.cfg("p", "panic")
    caught = []
    with pytest.raises(FailPointPanic):
        try:
            fail.fail_point("p")
        except Exception as exc:  # noqa: BLE001 - the point of the test
            caught.append(exc)
    assert caught == []


def test_panic_handler_runs_first():
    seen = []
    fail.set_panic_handler(lambda name, msg: seen.append((name, msg)))
    try:
        fail.cfg("p", "panic(x)")
        with pytest.raises(FailPointPanic):
            fail.fail_point("p")
    finally:
        fail.set_panic_handler(None)
    assert seen == [("p", "x")]


def test_print_logs_message_or_default(caplog):
    caplog.set_level(logging.INFO, logger="distlab.fail")
    fail.cfg("pr", "print(msg)")
    fail.fail_point("pr")
    fail.cfg("pr", "print")
    fail.fail_point("pr")
    assert [r.getMessage() for r in caplog.records] == ["msg", "failpoint pr executed."]


def test_yield_returns():
    fail.cfg("y", "yield")
    fail.fail_point("y")


def test_pause_blocks_until_reconfigured_then_removed():
    """fail-rs tests.rs test_pause: pause; a new 'pause' wakes it (it pauses again on the
    next call); remove wakes it and the next call passes straight through."""
    fail.cfg("pause", "pause")
    done: queue.Queue[int] = queue.Queue()

    def worker() -> None:
        for i in range(3):
            fail.fail_point("pause")
            done.put(i)

    t = threading.Thread(target=worker, daemon=True)
    t.start()
    with pytest.raises(queue.Empty):
        done.get(timeout=0.3)
    fail.cfg("pause", "pause")
    assert done.get(timeout=2) == 0
    with pytest.raises(queue.Empty):
        done.get(timeout=0.3)
    assert fail.remove("pause")
    assert done.get(timeout=2) == 1
    assert done.get(timeout=2) == 2
    t.join(2)


def test_teardown_wakes_paused_threads_and_clears_returns():
    """fail-rs lib.rs test_setup_and_teardown, through FAILPOINTS."""
    env = {"FAILPOINTS": "setup_and_teardown1=return;setup_and_teardown2=pause;"}
    results: queue.Queue[int] = queue.Queue()

    def f1() -> int:
        return 1 if fail.fail_return("setup_and_teardown1") is not None else 0

    def f2() -> None:
        fail.fail_point("setup_and_teardown2")
        results.put(0)

    fail.teardown()
    fail.setup_from_env(env)
    assert f1() == 1
    threading.Thread(target=f2, daemon=True).start()
    with pytest.raises(queue.Empty):
        results.get(timeout=0.3)
    fail.teardown()
    assert results.get(timeout=2) == 0
    assert f1() == 0


def test_count_limits_firings():
    fail.cfg("c", "2*return(x)")
    assert [fail.fail_return("c") for _ in range(4)] == [Returned("x"), Returned("x"), None, None]


def test_probability_and_count_together():
    """lib.rs test_frequency_and_count: 80% with 100 firings needs ~125 calls, then never."""
    fail.seed(7)
    fail.cfg("f", "80%100*return")
    fired = calls = 0
    while fired < 100:
        calls += 1
        fired += fail.fail_return("f") is not None
    assert 100 / 0.9 < calls < 100 / 0.7
    assert all(fail.fail_return("f") is None for _ in range(calls))


def test_seed_makes_probabilistic_firings_repeat():
    def pattern() -> list[bool]:
        fail.cfg("r", "50%return")
        return [fail.fail_return("r") is not None for _ in range(64)]

    fail.seed(42)
    a = pattern()
    fail.seed(42)
    b = pattern()
    fail.seed(43)
    c = pattern()
    assert a == b and a != c and 0 < sum(a) < 64


def test_zero_and_over_hundred_percent():
    fail.cfg("z", "0%return")
    assert all(fail.fail_return("z") is None for _ in range(50))
    fail.cfg("z", "125%2*return")
    assert [fail.fail_return("z") is not None for _ in range(3)] == [True, True, False]


def test_chain_takes_the_first_action_that_fires():
    """``2*off->1*return(a)->return(b)``: two calls pass, one returns a, the rest b."""
    fail.cfg("ch", "2*off->1*return(a)->return(b)")
    got = [fail.fail_return("ch") for _ in range(5)]
    assert got == [None, None, Returned("a"), Returned("b"), Returned("b")]


def test_chain_of_print_then_panic(caplog):
    caplog.set_level(logging.INFO, logger="distlab.fail")
    fail.cfg("cp", "1*print(still alive!)->panic")
    fail.fail_point("cp")
    with pytest.raises(FailPointPanic):
        fail.fail_point("cp")
    assert caplog.records[-1].getMessage() == "still alive!"


@pytest.mark.parametrize(
    "text, task, arg, freq, count",
    [
        ("return", "return", None, 1.0, None),
        ("return(64)", "return", "64", 1.0, None),
        ("5*return", "return", None, 1.0, 5),
        ("25%return", "return", None, 0.25, None),
        ("125%2*return", "return", None, 1.25, 2),
        ("return(2%5)", "return", "2%5", 1.0, None),
        ("125%2*off", "off", None, 1.25, 2),
        ("125%2*sleep(100)", "sleep", "100", 1.25, 2),
        (" 125%2*off ", "off", None, 1.25, 2),
        ("125%2*panic", "panic", None, 1.25, 2),
        ("125%2*panic(msg)", "panic", "msg", 1.25, 2),
        ("125%2*print", "print", None, 1.25, 2),
        ("125%2*print(msg)", "print", "msg", 1.25, 2),
        ("125%2*pause", "pause", None, 1.25, 2),
        ("125%2*yield", "yield", None, 1.25, 2),
        ("125%2*delay(2)", "delay", "2", 1.25, 2),
        ("0.5%return", "return", None, 0.005, None),
    ],
)
def test_parse(text, task, arg, freq, count):
    (action,) = fail.parse_actions(text)
    assert (action.task, action.arg, action.freq, action.count) == (task, arg, freq, count)


@pytest.mark.parametrize(
    "text",
    ["delay", "sleep", "sleep(x)", "Return", "ab%return", "ab*return", "-1*return",
     "return(msg", "unknown", "", "return->", "pause(1)", "nan%return"],
)
def test_parse_rejects(text):
    with pytest.raises(FailPointError):
        fail.parse_actions(text)


def test_bad_cfg_keeps_the_old_configuration():
    fail.cfg("k", "return(1)")
    with pytest.raises(FailPointError):
        fail.cfg("k", "explode")
    assert fail.fail_return("k") == Returned("1")


def test_list_points_shows_name_and_actions():
    fail.cfg("b", "50%return(x)->pause")
    fail.cfg("a", "off")
    assert fail.list_points() == [("a", "off"), ("b", "50%return(x)->pause")]
    fail.remove("a")
    assert fail.list_points() == [("b", "50%return(x)->pause")]
    assert not fail.remove("a")


def test_env_parsing():
    assert fail.parse_env(" a=return(1) ; b=2*off->panic ;; ") == [
        ("a", "return(1)"),
        ("b", "2*off->panic"),
    ]
    assert fail.setup_from_env({}) == []
    assert fail.setup_from_env({"FAILPOINTS": "a=return(1);b=pause"}) == ["a", "b"]
    assert fail.fail_return("a") == Returned("1")


@pytest.mark.parametrize(
    "value, words",
    [
        ("a", "expected NAME=ACTIONS"),
        ("=return", "expected NAME=ACTIONS"),
        ("a=return;b=explode", "fail point 'b': unknown task 'explode'"),
        ("a=sleep", "fail point 'a': sleep needs milliseconds"),
        ("a=return(x", "parentheses do not match"),
    ],
)
def test_env_rejects_bad_input_with_one_line_and_configures_nothing(value, words):
    with pytest.raises(FailPointError) as info:
        fail.setup_from_env({"FAILPOINTS": value})
    message = str(info.value)
    assert message.startswith("FAILPOINTS: ") and words in message and "\n" not in message
    assert fail.list_points() == []


def test_scenario_applies_env_and_clears_on_exit(scenario):
    scenario.teardown()  # leave the fixture's scope to test a fresh one
    with FailScenario(environ={"FAILPOINTS": "x=return(9)"}):
        assert fail.fail_return("x") == Returned("9")
    assert fail.list_points() == []
    s = FailScenario.setup(environ={})
    assert fail.list_points() == []
    fail.cfg("y", "return")
    s.teardown()
    assert fail.list_points() == []
    scenario.__enter__()  # give the fixture back a scope to leave


def test_guard_removes_on_exit():
    with fail.guard("g", "return(1)"):
        assert fail.fail_return("g") == Returned("1")
    assert fail.fail_return("g") is None


def test_callback_runs_each_time():
    hits = []
    fail.cfg_callback("cb", lambda: hits.append(1))
    fail.fail_point("cb")
    fail.fail_point("cb")
    assert len(hits) == 2
    assert fail.list_points() == [("cb", "callback")]


def test_counts_are_exact_under_threads():
    fail.cfg("t", "1000*return->off")
    fired = []
    lock = threading.Lock()

    def hammer() -> None:
        n = sum(fail.fail_return("t") is not None for _ in range(500))
        with lock:
            fired.append(n)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(fired) == 1000


def test_simulator_seeds_fail_points_from_the_run_seed(tmp_path):
    """A simulated run with seed S draws its p% firings from S: two clusters, same pattern."""
    import random

    from distlab.runtime.network import Network
    from distlab.runtime.sim.cluster import SimCluster
    from distlab.runtime.sim.loop import VirtualLoop

    node = tmp_path / "node.py"
    node.write_text("pass\n")

    def pattern(seed: int) -> list[bool]:
        SimCluster(VirtualLoop(), node, ["n1"], Network(rng=random.Random(0)), seed)
        fail.cfg("sim", "50%return")
        return [fail.fail_return("sim") is not None for _ in range(64)]

    assert pattern(5) == pattern(5) != pattern(6)
