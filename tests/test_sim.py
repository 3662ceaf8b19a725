"""The simulator: virtual time, per-node isolation, crash/restart, pause, clocks, rule breakers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest

from distlab.options import TestOptions
from distlab.protocol import RPCError
from distlab.runner import Runner, new_run_dir
from distlab.runtime.sim import loop as sim_loop
from distlab.runtime.sim.loop import VirtualLoop
from distlab.runtime.sim.sandbox import EPOCH
from tests.conftest import node_path

# ----- the virtual-time loop ------------------------------------------------------------


def run_virtual(coro_fn: Any) -> tuple[Any, float]:
    loop = VirtualLoop()
    try:
        result = loop.run_until_complete(coro_fn())
        return result, loop.time()
    finally:
        loop.shutdown()


def test_plain_asyncio_runs_on_virtual_time() -> None:
    async def main() -> list[Any]:
        out: list[Any] = []
        q: asyncio.Queue[int] = asyncio.Queue()
        lock = asyncio.Lock()

        async def producer() -> None:
            for i in range(3):
                await asyncio.sleep(100)
                await q.put(i)

        async def consumer() -> None:
            for _ in range(3):
                async with lock:
                    out.append((await q.get(), asyncio.get_running_loop().time()))

        await asyncio.gather(producer(), consumer())
        try:
            await asyncio.wait_for(asyncio.sleep(50), timeout=10)
        except TimeoutError:
            out.append(("wait_for timed out", asyncio.get_running_loop().time()))
        try:
            async with asyncio.timeout(5):
                await asyncio.sleep(60)
        except TimeoutError:
            out.append(("timeout", asyncio.get_running_loop().time()))
        return out

    loop = VirtualLoop()
    try:
        out = loop.run_until_complete(main())
    finally:
        loop.shutdown()
    assert out == [(0, 100.0), (1, 200.0), (2, 300.0), ("wait_for timed out", 310.0), ("timeout", 315.0)]
    assert loop.time() == 315.0
    # 315 simulated seconds, no real sleeping: time jumps from timer to timer, a
    # step each, instead of being waited out (a count, not a wall-clock figure).
    assert loop.steps < 50


def test_equal_timers_fire_in_the_order_they_were_set() -> None:
    async def main() -> list[int]:
        order: list[int] = []
        loop = asyncio.get_running_loop()
        for i in range(50):
            loop.call_at(7.0, order.append, i)
        await asyncio.sleep(8)
        return order

    out, _ = run_virtual(main)
    assert out == list(range(50))


def test_deadlock_is_reported_not_hung() -> None:
    loop = VirtualLoop()
    with pytest.raises(RuntimeError):
        loop.run_until_complete(loop.create_future())
    assert "deadlock" in (loop.abort_reason or "")
    loop.shutdown()


def test_run_in_executor_is_refused() -> None:
    async def main() -> None:
        await asyncio.to_thread(print, "hi")

    loop = VirtualLoop()
    with pytest.raises(Exception):  # noqa: B017  (the point is the abort reason below)
        loop.run_until_complete(main())
    assert "threads cannot run in the simulator" in (loop.abort_reason or "")
    loop.shutdown()


# ----- a small harness to drive a cluster by hand ---------------------------------------


def write_node(tmp_path: Path, body: str, name: str = "node.py") -> str:
    path = tmp_path / name
    path.write_text("from distlab import Node\nimport asyncio\nnode = Node()\n" + body + "\nnode.run()\n")
    return str(path)


def make_runner(tmp_path: Path, bin_path: str, **kw: Any) -> Runner:
    opts = TestOptions(workload="echo", bin=bin_path, store=str(tmp_path / "store"), **kw)
    return Runner(opts, new_run_dir(opts.store, "manual"))


def drive(runner: Runner, script: Any) -> Any:
    """Start every node, then run `script(runner)` on the virtual loop."""

    async def main() -> Any:
        await asyncio.gather(*(runner._start_node(n) for n in runner.node_ids))
        return await script(runner)

    try:
        return runner.loop.run_guarded(main())
    finally:
        runner.loop.shutdown()
        runner.cluster.close()
        runner._trace.close()


async def ask(runner: Runner, node: str, body: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
    return await runner.call(runner._new_client(), node, body, timeout)


STATEFUL = """
import helper
counter = 0

@node.on("bump")
def bump(msg):
    global counter
    counter += 1
    helper.hits.append(node.id)
    return {"type": "bump_ok", "counter": counter, "helper_hits": list(helper.hits)}
"""


def test_each_node_has_its_own_module_and_local_imports(tmp_path: Path) -> None:
    (tmp_path / "helper.py").write_text("hits = []\n")
    runner = make_runner(tmp_path, write_node(tmp_path, STATEFUL), node_count=2)

    async def script(r: Runner) -> list[dict[str, Any]]:
        return [await ask(r, n, {"type": "bump"}) for n in ("n0", "n0", "n1")]

    a, b, c = drive(runner, script)
    assert (a["counter"], b["counter"], c["counter"]) == (1, 2, 1)
    assert b["helper_hits"] == ["n0", "n0"]
    assert c["helper_hits"] == ["n1"]  # n1's helper module never saw n0's calls


CLOCKS = """
import random, time, uuid

@node.on("now")
def now(msg):
    return {"type": "now_ok", "time": time.time(), "mono": time.monotonic(), "node_now": node.now(),
            "r": random.random(), "nr": node.random.random(), "uuid": str(uuid.UUID(bytes=__import__("os").urandom(16)))}
"""


def test_time_and_randomness_are_virtual_and_seeded(tmp_path: Path) -> None:
    path = write_node(tmp_path, CLOCKS)

    def sample(seed: int) -> dict[str, Any]:
        runner = make_runner(tmp_path, path, seed=seed)

        async def script(r: Runner) -> dict[str, Any]:
            await asyncio.sleep(42)
            return await ask(r, "n0", {"type": "now"})

        return drive(runner, script)

    first, again, other = sample(7), sample(7), sample(8)
    assert first["time"] == pytest.approx(EPOCH + 42)
    assert first["mono"] == pytest.approx(42)
    assert first["node_now"] == pytest.approx(42)
    for key in ("r", "nr", "uuid"):
        assert first[key] == again[key]
        assert first[key] != other[key]


def test_clock_skew_changes_what_one_node_sees(tmp_path: Path) -> None:
    runner = make_runner(tmp_path, write_node(tmp_path, CLOCKS), node_count=2)

    async def script(r: Runner) -> tuple[dict[str, Any], dict[str, Any]]:
        await asyncio.sleep(10)
        r.set_clock("n1", offset=-3.0, drift=0.1)
        return await ask(r, "n0", {"type": "now"}), await ask(r, "n1", {"type": "now"})

    n0, n1 = drive(runner, script)
    assert n0["node_now"] == pytest.approx(10)
    assert n1["node_now"] == pytest.approx(10 - 3 + 1)
    assert n1["time"] == pytest.approx(EPOCH + 8)
    assert n1["mono"] == pytest.approx(10)  # skew moves the wall clock, not the monotonic one


STORE = """
@node.on("put")
def put(msg):
    node.storage[msg.body["key"]] = msg.body["value"]
    if msg.body.get("sync"):
        node.storage.sync()
    return {"type": "put_ok"}

@node.on("get")
def get(msg):
    return {"type": "get_ok", "value": node.storage.get(msg.body["key"])}

ticks = 0
async def tick():
    global ticks
    ticks += 1
node.every(1.0, tick)

@node.on("ticks")
def get_ticks(msg):
    return {"type": "ticks_ok", "ticks": ticks}
"""


def test_crash_loses_memory_and_unsynced_writes_only(tmp_path: Path) -> None:
    runner = make_runner(tmp_path, write_node(tmp_path, STORE))

    async def script(r: Runner) -> list[Any]:
        await ask(r, "n0", {"type": "put", "key": "kept", "value": [1, 2], "sync": True})
        await ask(r, "n0", {"type": "put", "key": "lost", "value": 3})
        await asyncio.sleep(5.5)
        before = (await ask(r, "n0", {"type": "ticks"}))["ticks"]
        r.crash("n0")
        try:
            await ask(r, "n0", {"type": "get", "key": "kept"}, timeout=1.0)
            down = "answered"
        except Exception as exc:
            down = type(exc).__name__ + str(getattr(exc, "code", ""))
        await asyncio.sleep(10)
        await r.restart("n0")
        after = (await ask(r, "n0", {"type": "ticks"}))["ticks"]
        kept = (await ask(r, "n0", {"type": "get", "key": "kept"}))["value"]
        lost = (await ask(r, "n0", {"type": "get", "key": "lost"}))["value"]
        return [before, down, after, kept, lost]

    before, down, after, kept, lost = drive(runner, script)
    assert before == 5
    assert down == "RPCError0"  # a crashed node answers nothing: the client times out
    assert after == 0  # module state is new, and the dead incarnation's timer never ran again
    assert kept == [1, 2]
    assert lost is None


def test_pause_holds_messages_and_timers_until_resume(tmp_path: Path) -> None:
    runner = make_runner(tmp_path, write_node(tmp_path, STORE))

    async def script(r: Runner) -> list[Any]:
        await asyncio.sleep(2.5)
        r.pause("n0")
        client = r._new_client()
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        r.request(client, "n0", {"type": "ticks"}, 30.0, fut.set_result)
        await asyncio.sleep(10)
        during = fut.done()
        r.resume("n0")
        reply = await fut
        return [during, reply["ticks"], loop.time()]

    during, ticks, now = drive(runner, script)
    assert during is False  # nothing ran while paused
    assert ticks == 2  # the timers that fell due during the pause had not run yet
    assert now == pytest.approx(12.5)


RELAY = """
@node.on("relay")
async def relay(msg):
    reply = await node.rpc(msg.body["to"], {"type": "ping"}, timeout=msg.body.get("timeout", 5))
    return {"type": "relay_ok", "from": reply.src}

@node.on("ping")
def ping(msg):
    return {"type": "pong"}
"""


def test_latency_and_partitions_apply_between_servers(tmp_path: Path) -> None:
    runner = make_runner(tmp_path, write_node(tmp_path, RELAY), node_count=3, latency=100)

    async def script(r: Runner) -> list[Any]:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        ok = await ask(r, "n0", {"type": "relay", "to": "n1"})
        rtt = loop.time() - t0
        r.network.partition({"n1": frozenset({"n0"})})
        try:
            await ask(r, "n0", {"type": "relay", "to": "n1", "timeout": 1})
            cut = "answered"
        except Exception as exc:
            cut = getattr(exc, "text", str(exc))
        other = await ask(r, "n0", {"type": "relay", "to": "n2"})
        return [ok["from"], rtt, cut, other["from"]]

    src, rtt, cut, other = drive(runner, script)
    assert src == "n1"
    assert rtt == pytest.approx(0.2)  # two server hops of 100 ms; client hops are instant
    assert "no reply from n1" in cut
    assert other == "n2"


def test_partition_is_checked_when_a_message_arrives(tmp_path: Path) -> None:
    runner = make_runner(tmp_path, write_node(tmp_path, RELAY), node_count=2, latency=1000)

    async def script(r: Runner) -> str:
        task = asyncio.ensure_future(ask(r, "n0", {"type": "relay", "to": "n1", "timeout": 3}))
        await asyncio.sleep(0.5)  # the ping is on the wire now
        r.network.partition({"n1": frozenset({"n0"})})
        try:
            await task
            return "answered"
        except Exception as exc:
            return getattr(exc, "text", str(exc))

    assert "no reply from n1" in drive(runner, script)
    trace = [orjson.loads(line) for line in (runner.run_dir / "messages.jsonl").read_bytes().splitlines()]
    assert any(ev["ev"] == "drop" and ev.get("why") == "partition" for ev in trace)


# ----- nodes that break the rules: a clear error and the run ends -------------------------


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ("no_init", "node n0 did not answer init within 10 s"),
        ("thread", "node n0 started a thread"),
        ("sleeps", "node n0 called time.sleep(0.5)"),
        ("flood", "flooded the network"),
        ("spin", "without yielding"),
        ("socket_user", "node n0 opened a network connection"),
    ],
)
def test_rule_breakers_end_the_run_with_a_clear_error(simulate: Any, node: str, expected: str) -> None:
    result = simulate(node, node_count=2)  # returns at all: the run ended, it did not hang
    assert result.valid == "unknown"
    assert result.exit_code == 2
    assert expected in result.results["error"]
    assert "\n" not in result.results["error"]


BUSY_LOOP_ERROR = (
    "simulated time stopped at {now:.3f} s: {who} keeps scheduling work without "
    "letting time pass (a busy loop around asyncio.sleep(0)?)"
)


def test_busy_loop_limit_defaults_to_the_production_limit() -> None:
    loop = VirtualLoop()
    assert loop.max_steps_without_progress == sim_loop.MAX_STEPS_WITHOUT_PROGRESS == 2_000_000
    loop.shutdown()


def test_busy_loop_ends_the_loop_after_exactly_the_step_limit() -> None:
    """The limit is a count of loop steps at one instant, so the test lowers it, not waits."""

    async def spin() -> None:
        while True:
            await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.sleep(3)
        await spin()

    loop = VirtualLoop(max_steps_without_progress=1000)
    with pytest.raises(RuntimeError, match="Event loop stopped"):
        loop.run_until_complete(main())
    assert loop.abort_reason == BUSY_LOOP_ERROR.format(who="the harness", now=3.0)
    assert loop._same_time_steps == 1001
    loop.shutdown()


def test_busy_loop_around_sleep_zero_is_caught(
    tmp_path: Path, simulate: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Production waits 2 million steps (seconds of CPU); 20 000 steps prove the same rule.
    monkeypatch.setattr(sim_loop, "MAX_STEPS_WITHOUT_PROGRESS", 20_000)
    path = write_node(
        tmp_path,
        """
async def spin():
    while True:
        await asyncio.sleep(0)

@node.on("init")
def init(msg):
    node.spawn(spin())

@node.on("echo")
def echo(msg):
    return {"type": "echo_ok", "echo": msg.body["echo"]}
""",
    )
    result = simulate(path)
    assert result.exit_code == 2
    assert result.results["error"] == BUSY_LOOP_ERROR.format(who="node n0", now=0.0)


def test_node_sees_its_own_argv_and_cannot_exit_the_harness(tmp_path: Path, simulate: Any) -> None:
    path = write_node(
        tmp_path,
        """
import sys

@node.on("echo")
def echo(msg):
    if msg.body["echo"] == "quit":
        sys.exit(3)
    return {"type": "echo_ok", "echo": sys.argv[1:]}
""",
    )
    runner = make_runner(tmp_path, path, bin_args=["--fast", "7"])

    async def script(r: Runner) -> Any:
        try:
            await ask(r, "n0", {"type": "echo", "echo": "quit"}, timeout=1)
        except RPCError:
            pass
        await asyncio.sleep(1)

    with pytest.raises(RuntimeError, match="Event loop stopped"):
        drive(runner, script)
    assert runner.loop.abort_reason == "node n0 exited (sys.exit(3)); a node must keep serving until the test ends"
    runner2 = make_runner(tmp_path, path, bin_args=["--fast", "7"])

    async def script2(r: Runner) -> Any:
        return await ask(r, "n0", {"type": "echo", "echo": "argv"})

    assert drive(runner2, script2)["echo"] == ["--fast", "7"]


def test_a_node_file_that_fails_to_load_names_the_cause(tmp_path: Path, simulate: Any) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("from distlab import Node\nnode = Node()\nraise KeyError('boom')\n")
    result = simulate(str(broken))
    assert result.exit_code == 2
    assert "node n0: loading broken.py failed: KeyError: 'boom'" in result.results["error"]
    assert "raise KeyError" in (result.run_dir / "node-logs" / "n0.log").read_text()


def test_raising_handler_gets_error_13_and_keeps_serving(simulate: Any) -> None:
    result = simulate("raises", time_limit=10)
    stats = result.results["stats"]
    assert stats["ok"] > 0 and stats["fail"] > 0  # echo is read-only: a crash error is a fail
    assert stats["ok"] == pytest.approx(2 * stats["fail"], abs=2)
    assert result.valid is True
    log = (result.run_dir / "node-logs" / "n0.log").read_text()
    assert "ValueError: request 3 is unlucky" in log


def test_raising_handler_fails_a_required_availability(simulate: Any) -> None:
    result = simulate("raises", time_limit=10, availability="0.9")
    assert result.valid is False
    assert result.results["availability"]["valid"] is False


def test_garbage_from_a_node_is_reported_and_the_run_goes_on(simulate: Any) -> None:
    result = simulate("garbage", node_count=2)
    errors = result.results["node_errors"]
    assert any("unknown destination 'n99'" in e["message"] for e in errors)
    log = (result.run_dir / "node-logs" / "n0.log").read_text()
    assert "debug: got" in log  # print() went to the node's log, not the protocol
    assert "needs a string 'type'" in log
    assert "not JSON-serialisable" in log
    assert result.results["stats"]["count"] > 50


# ----- the runtime seam -------------------------------------------------------------------


def test_make_runtime_gives_the_simulator_behind_the_seam(tmp_path: Path) -> None:
    """One factory; the loop's public `now` is its time(), and the cluster owns the clocks."""
    import random

    from distlab.examples import example_path
    from distlab.runtime.factory import make_runtime
    from distlab.runtime.sim.cluster import SimCluster

    opts = TestOptions(workload="echo", bin=str(example_path("echo")), node_count=2, mode="sim")
    with open(tmp_path / "messages.jsonl", "wb") as trace:
        loop, cluster = make_runtime(opts, opts.network(random.Random(0)), tmp_path, trace)
        try:
            assert isinstance(loop, VirtualLoop) and isinstance(cluster, SimCluster)
            assert loop.now == loop.time() == 0.0
            assert "virtual-clock" in cluster.capabilities
            cluster.set_clock("n0", offset=5.0, drift=0.1)
            assert cluster.nodes["n0"].clock.read(10.0) == pytest.approx(16.0)
            cluster.reset_clock("n0")
            assert cluster.nodes["n0"].clock.read(10.0) == 10.0
        finally:
            cluster.close()
            loop.shutdown()


def test_no_module_reads_a_loops_private_clock() -> None:
    """The seam is public: the harness reads loop.now, never a private attribute across modules."""
    import re

    import distlab

    root = Path(distlab.__file__).parent
    private = re.compile(r"\._now\b")
    assert [str(p.relative_to(root)) for p in sorted(root.rglob("*.py")) if private.search(p.read_text())] == []


def test_handlers_waiting_on_a_lock_at_the_end_close_quietly(tmp_path: Path) -> None:
    """Closing a handler parked on an asyncio.Lock makes the lock wake a waiter on the
    closed loop; that RuntimeError is no reply to send (it once printed "Exception
    ignored ... write to closed file" tracebacks after the summary)."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "distlab", "test", "-w", "unique-ids", "--bin", node_path("lock_waiters"),
         "--node-count", "3", "--rate", "300", "--concurrency", "20n", "--latency", "50",
         "--op-timeout", "1", "--time-limit", "5", "--seed", "1", "--store", str(tmp_path / "store")],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert "Exception ignored" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
