"""The simulator must not pass a node that real processes would show broken, nor fail one
they would pass, and a seed must replay: all nodes share one interpreter there, so what
each process has of its own (process id, environment, builtins, Node class, working
directory) is made per node, and what reads the real clock or entropy (datetime, uuid,
secrets, /dev/urandom) reads the node's simulated clock and seeded randomness."""

from __future__ import annotations

import datetime
import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from distlab.options import TestOptions
from distlab.runner import run_test
from distlab.runtime.sim.loop import SimulationAbort
from distlab.runtime.sim.sandbox import EPOCH, Sandbox
from tests.conftest import node_path


def _run(tmp_path: Path, how: str, seed: int = 3) -> dict[str, Any]:
    opts = TestOptions(workload="unique-ids", bin=node_path("ids_from_the_process"), bin_args=[how],
                       node_count=3, time_limit=5.0, rate=50.0, seed=seed,
                       store=str(tmp_path / "store"), mode="sim")
    return run_test(opts).results


# ----- whole runs: known-bad caught, known-good passing, replays alike ------------------------

@pytest.mark.parametrize("how", ["environ", "sdk-class", "builtins"])
def test_a_counter_one_interpreter_shares_but_processes_do_not_is_caught(tmp_path: Path, how: str) -> None:
    # known-bad: as processes every node counts from 0 on its own, so ids repeat; in one
    # interpreter they used to share the counter, and the run passed
    assert _run(tmp_path, how)["workload"]["valid"] is False


def test_a_file_opened_by_a_relative_path_stops_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # as processes each node has its own working directory; simulated nodes would share
    # one (and find the previous run's files in it)
    monkeypatch.chdir(tmp_path)
    results = _run(tmp_path, "cwd-file")
    assert results["workload"]["valid"] != True  # noqa: E712  (unknown: the run was stopped)
    assert "the relative path" in orjson.dumps(results).decode()
    assert not (tmp_path / "counter.txt").exists()


@pytest.mark.parametrize("how", ["pid", "uuid4", "uuid1", "secrets", "urandom-file", "datetime"])
def test_ids_unique_per_process_pass_and_replay(tmp_path: Path, how: str) -> None:
    # known-good: pid + counter used to fail (one pid for all nodes); the random and
    # clock-based ones passed but differed from one run of a seed to the next
    first = _run(tmp_path / "a", how)
    again = _run(tmp_path / "b", how)
    assert first["workload"]["valid"] is True
    assert first["trace_hash"] == again["trace_hash"]
    assert _run(tmp_path / "c", how, seed=4)["trace_hash"] != first["trace_hash"]


# ----- the per-node world, directly --------------------------------------------------------------

class _Node:
    def __init__(self, tmp_path: Path, node_id: str = "n0", seed: int = 1, now: float = 12.5) -> None:
        self.aborted: list[str] = []
        self.logged: list[str] = []
        self.path = tmp_path / "node.py"
        self.sandbox = Sandbox(self.path, node_id, wall_clock=lambda: now, monotonic=lambda: now,
                               rng=random.Random(seed), abort=self.aborted.append, log=self.logged.append)

    def run(self, source: str) -> dict[str, Any]:
        return self.sandbox.load(compile(source, str(self.path), "exec")).__dict__


def test_datetime_reads_the_simulated_clock_and_makes_real_instances(tmp_path: Path) -> None:
    g = _Node(tmp_path).run(
        "import datetime, time\n"
        "from datetime import date, datetime as dt\n"
        "now = dt.now(); utc = dt.utcnow(); today = date.today(); t = time.time()\n"
        "made = dt(2020, 1, 2); parsed = dt.fromisoformat('2020-01-02T03:04:05')\n"
        "later = now + datetime.timedelta(seconds=1)\n"
        "checks = (isinstance(now, dt), isinstance(datetime.datetime.now(), date), issubclass(dt, date))\n"
        "stamp = time.strftime('%Y-%m-%d %H:%M:%S'); local = time.localtime()\n"
    )
    assert g["now"].timestamp() == pytest.approx(EPOCH + 12.5) == g["t"]
    assert g["utc"] == datetime.datetime.fromtimestamp(EPOCH + 12.5, datetime.UTC).replace(tzinfo=None)
    assert g["today"] == datetime.date.fromtimestamp(EPOCH + 12.5)
    for value in (g["now"], g["made"], g["parsed"], g["later"], g["today"]):
        assert type(value) in (datetime.datetime, datetime.date)  # real ones: orjson, pickle take them
    assert orjson.dumps(g["now"])
    assert g["checks"] == (True, True, True)
    assert g["stamp"] == datetime.datetime.fromtimestamp(EPOCH + 12.5).strftime("%Y-%m-%d %H:%M:%S")
    assert g["local"].tm_year == g["now"].year


def test_each_incarnation_has_its_own_pid_environment_and_main_module(tmp_path: Path) -> None:
    source = ("import os, sys, builtins\nos.environ['MINE'] = '1'\nbuiltins.mine = 1\n"
              "pid = os.getpid(); env = os.getenv('MINE'); me = sys.modules['__main__']\n")
    a, b, a_again = _Node(tmp_path, "n0"), _Node(tmp_path, "n1"), _Node(tmp_path, "n0")
    ga, gb, ga2 = a.run(source), b.run(source), a_again.run(source)
    assert ga["pid"] != gb["pid"] and ga["pid"] == ga2["pid"]  # per node; a replay alike
    assert _Node(tmp_path, "n0", seed=2).run(source)["pid"] != ga["pid"]  # a restart: another pid
    fresh = _Node(tmp_path, "n2")
    assert ga["env"] == "1" and fresh.run("import os\nenv = os.environ.get('MINE')")["env"] is None
    assert fresh.run("import builtins\nseen = hasattr(builtins, 'mine')")["seen"] is False
    import os

    assert "MINE" not in os.environ
    assert ga["me"].__dict__ is ga


def test_sdk_class_attributes_stay_in_their_node(tmp_path: Path) -> None:
    from distlab import Node as SharedNode

    g = _Node(tmp_path).run("import distlab\nfrom distlab import Node, RPCError\nNode.shared = {}\n"
                            "ok = issubclass(Node, distlab.Node) and distlab.RPCError is RPCError\n")
    assert g["ok"] and issubclass(g["Node"], SharedNode)
    assert not hasattr(SharedNode, "shared")
    assert not hasattr(_Node(tmp_path, "n1").run("from distlab import Node")["Node"], "shared")


def test_entropy_is_seeded(tmp_path: Path) -> None:
    source = ("import uuid, secrets, os, random\n"
              "own = random.Random().random(); random.seed(); reseeded = random.random()\n"
              "with open('/dev/urandom', 'rb') as f: raw = f.read(8)\n"
              "got = (uuid.uuid4(), uuid.uuid1(), secrets.token_hex(), os.getrandom(4), raw, own, reseeded)\n")
    got = [_Node(tmp_path, seed=s).run(source)["got"] for s in (1, 1, 2)]
    assert got[0] == got[1] != got[2]
    assert got[0][0].version == 4 and got[0][1].version == 1


def test_a_relative_path_is_refused_and_an_absolute_one_opens(tmp_path: Path) -> None:
    target = tmp_path / "data.txt"
    target.write_text("x")
    g = _Node(tmp_path).run(f"from pathlib import Path\nimport os\nread = Path({str(target)!r}).read_text()\n"
                            f"fd = os.open({str(target)!r}, os.O_RDONLY); os.close(fd)\n")
    assert g["read"] == "x"
    for line in ("open('state.json', 'w')", "import io\nio.open('state.json')",
                 "from pathlib import Path\nPath('state.json').write_text('{}')",
                 "import os\nos.open('state.json', os.O_RDONLY)", "import os\nos.listdir()",
                 "import os\nos.replace('/tmp/x', 'state.json')",
                 "import os\nopen(os.path.join(os.getcwd(), 'state.json'))",
                 "from pathlib import Path\n(Path.cwd() / 'state.json').read_text()"):
        node = _Node(tmp_path)
        with pytest.raises(SimulationAbort, match="the relative path|the working directory"):
            node.run(line)
        assert "node.storage" in node.aborted[0]


@pytest.mark.parametrize("line", [
    "import subprocess\nsubprocess.run(['true'])",
    "import os\nos.system('true')",
    "import os\nos.kill(os.getpid(), 9)",
    "import multiprocessing\nmultiprocessing.Process(target=print).start()",
    "import signal\nsignal.alarm(1)",
    "import os\nos.chdir('/')",
    "import sys\nsys.stdin.readline()",
    "import sys\nfor line in sys.stdin: pass",
    "import sys\nsys.stdin.buffer.read(1)",
    "from concurrent.futures import ThreadPoolExecutor\nThreadPoolExecutor(1)",
    "import concurrent.futures\nconcurrent.futures.ProcessPoolExecutor()",
])
def test_processes_and_alarms_are_refused(tmp_path: Path, line: str) -> None:
    node = _Node(tmp_path)
    with pytest.raises(SimulationAbort):
        node.run(line)
    assert node.aborted and node.aborted[0].startswith("node n0 ")


def test_a_signal_handler_stays_in_its_node(tmp_path: Path) -> None:
    import signal

    before = signal.getsignal(signal.SIGINT)
    g = _Node(tmp_path).run("import signal\nh = lambda *a: None\nsignal.signal(signal.SIGINT, h)\n"
                            "kept = signal.getsignal(signal.SIGINT) is h\n")
    assert g["kept"] and signal.getsignal(signal.SIGINT) is before


def test_exit_handlers_never_run(tmp_path: Path) -> None:
    # a process stopped by SIGTERM or SIGKILL runs none; here they would run in the harness
    import atexit

    before = atexit._ncallbacks()
    _Node(tmp_path).run("import atexit\natexit.register(print, 'bye')\n")
    assert atexit._ncallbacks() == before


def test_stdout_and_stderr_go_to_the_node_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # as a process the SDK sends stdout to stderr, the node's log; not to the harness's terminal
    node = _Node(tmp_path)
    node.run("import sys\nsys.stdout.write('a\\n')\nprint('b', file=sys.stderr)\nprint('c')\n"
             "sys.stderr.write('d'); sys.stderr.flush()\n")
    assert node.logged == ["a", "b", "c", "d"]
    assert capsys.readouterr() == ("", "")
