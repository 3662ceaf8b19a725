"""`distlab test`, `replay` and `demo` as a user runs them: real processes, real files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import node_path

DISTLAB = [sys.executable, "-m", "distlab"]


def distlab(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DISTLAB, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def results(run_dir: Path) -> dict[str, Any]:
    return orjson.loads((run_dir / "results.json").read_bytes())


def latest(cwd: Path) -> Path:
    return (cwd / "store" / "latest").resolve()


UNIQUE_IDS = ["test", "-w", "unique-ids", "--node-count", "3", "--time-limit", "20", "--rate", "200"]


def test_correct_unique_ids_survive_partitions_with_total_availability(tmp_path: Path) -> None:
    proc = distlab(*UNIQUE_IDS, "--bin", node_path("unique-ids"), "--nemesis", "partition",
                   "--nemesis-interval", "3", "--availability", "total", "--seed", "5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "VALID" in proc.stdout
    r = results(latest(tmp_path))
    assert r["valid"] is True
    assert r["availability"]["ok_fraction"] == 1.0
    assert r["nemesis_ops"]["start-partition"] >= 2


def test_counter_without_node_id_fails_and_shows_the_duplicates(tmp_path: Path) -> None:
    proc = distlab(*UNIQUE_IDS, "--bin", node_path("unique_ids_buggy"), "no-node-id", "--seed", "5", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "INVALID" in proc.stdout
    assert "duplicated" in proc.stdout
    workload = results(latest(tmp_path))["workload"]
    assert workload["valid"] is False
    assert workload["duplicated_count"] > 0
    assert workload["duplicated"][0] == [1, 3]  # id 1 came from all three nodes


@pytest.mark.parametrize(
    ("node", "args", "code"),
    [("unique-ids", [], 0), ("unique_ids_buggy", ["volatile"], 1), ("unique_ids_buggy", ["unsynced"], 1)],
)
def test_kills_catch_ids_kept_only_in_memory_or_unsynced(tmp_path: Path, node: str, args: list[str], code: int) -> None:
    proc = distlab(*UNIQUE_IDS, "--bin", node_path(node), *args, "--nemesis", "kill", "--nemesis-interval", "2",
                   "--seed", "2", cwd=tmp_path)
    assert proc.returncode == code, proc.stdout + proc.stderr
    r = results(latest(tmp_path))
    assert r["nemesis_ops"]["start-kill"] == r["nemesis_ops"]["stop-kill"]  # all healed by the end


def test_run_directory_has_everything(tmp_path: Path) -> None:
    proc = distlab("test", "-w", "echo", "--bin", node_path("echo"), "--time-limit", "5", "--seed", "3", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run_dir = latest(tmp_path)
    assert run_dir.parent == tmp_path / "store" / "echo"
    for name in ("config.json", "results.json", "history.jsonl", "messages.jsonl", "node-logs/n1.log"):
        assert (run_dir / name).is_file(), name
    config = orjson.loads((run_dir / "config.json").read_bytes())
    assert config["seed"] == 3 and config["workload"] == "echo"
    # no --node-count: Maelstrom's (Jepsen's) five nodes n1..n5, recorded for replay
    assert config["node_count"] == 5 and config["nodes"] == ["n1", "n2", "n3", "n4", "n5"]
    history = [orjson.loads(line) for line in (run_dir / "history.jsonl").read_bytes().splitlines()]
    assert {"index", "time", "process", "type", "f", "value"} <= set(history[0])
    assert [h["index"] for h in history] == list(range(len(history)))
    assert str(run_dir.relative_to(tmp_path)) in proc.stdout.replace("\n", "")
    for label in ("operations", "availability", "msgs-per-op", "latency ms", "verdict", "seed", "run dir"):
        assert label in proc.stdout


def trace_hash_of(proc: subprocess.CompletedProcess[str], cwd: Path) -> str:
    assert proc.returncode in (0, 1), proc.stderr
    return results(latest(cwd))["trace_hash"]


NEMESIS_RUN = ["test", "-w", "unique-ids", "--bin", node_path("unique-ids"), "--node-count", "5",
               "--time-limit", "20", "--rate", "100", "--latency", "5", "--latency-dist", "exponential",
               "--nemesis", "partition,kill,pause,clock,loss", "--nemesis-interval", "2"]


def test_same_seed_same_trace_across_processes_and_hash_seeds(tmp_path: Path) -> None:
    hashes = []
    for hash_seed in ("1", "2", "random"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        cwd = tmp_path / hash_seed
        cwd.mkdir()
        hashes.append(trace_hash_of(distlab(*NEMESIS_RUN, "--seed", "11", cwd=cwd, env=env), cwd))
    assert len(set(hashes)) == 1
    other = tmp_path / "other"
    other.mkdir()
    assert trace_hash_of(distlab(*NEMESIS_RUN, "--seed", "12", cwd=other), other) != hashes[0]


def test_replay_matches_and_notices_a_changed_node(tmp_path: Path) -> None:
    node = tmp_path / "node.py"
    node.write_text(Path(node_path("unique-ids")).read_text())
    run = distlab(*NEMESIS_RUN[:4], str(node), *NEMESIS_RUN[5:], "--seed", "4", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    run_dir = latest(tmp_path)
    same = distlab("replay", str(run_dir), cwd=tmp_path)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "replay matches" in same.stdout
    node.write_text(node.read_text().replace('f"{node.id}-{epoch}-{counter}"', 'f"{node.id}/{epoch}/{counter}"'))
    changed = distlab("replay", str(run_dir), cwd=tmp_path)
    assert changed.returncode == 1
    assert "replay differs" in changed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-w", "nope", "--bin", "x.py"], "Invalid value for '-w'"),
        (["-w", "echo", "--bin", "missing.py"], "--bin missing.py: no such file"),
        (["-w", "echo", "--bin", "{echo}", "--concurrency", "xn"], "--concurrency 'xn'"),
        (["-w", "echo", "--bin", "{echo}", "--nemesis", "partition,meteor"], "unknown nemesis 'meteor'"),
        (["-w", "echo", "--bin", "{echo}", "--availability", "most"], "--availability 'most'"),
        (["-w", "echo", "--bin", "{echo}", "--mode", "process", "--nemesis", "clock"], "--nemesis clock needs the simulator"),
        (["-w", "echo", "--bin", "{raw}", "--mode", "sim"], "the simulator runs Python SDK nodes"),
        (["-w", "echo", "--bin", "{echo}", "--time-limit", "0"], "--time-limit must be positive"),
    ],
)
def test_bad_arguments_give_one_clear_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    args = [a.replace("{echo}", node_path("echo")).replace("{raw}", "/bin/true") for a in args]
    proc = distlab("test", *args, cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_replay_of_a_non_run_directory_is_a_clear_error(tmp_path: Path) -> None:
    proc = distlab("replay", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2
    assert "not a complete run directory" in proc.stderr


def test_unknown_outcome_exits_2(tmp_path: Path) -> None:
    proc = distlab("test", "-w", "echo", "--bin", node_path("no_init"), "--time-limit", "5", "--seed", "1", cwd=tmp_path)
    assert proc.returncode == 2
    assert "did not answer init within 10 s" in proc.stdout
    assert "UNKNOWN" in proc.stdout


def test_test_count_runs_consecutive_seeds(tmp_path: Path) -> None:
    proc = distlab("test", "-w", "echo", "--bin", node_path("echo"), "--time-limit", "2", "--seed", "40",
                   "--test-count", "3", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    seeds = sorted(orjson.loads((d / "config.json").read_bytes())["seed"] for d in (tmp_path / "store" / "echo").iterdir())
    assert seeds == [40, 41, 42]


def test_demo_is_a_tour_of_a_raft_store_and_a_caught_proxy(tmp_path: Path) -> None:
    # through the installed console script, which pins PYTHONHASHSEED and re-executes
    script = Path(sys.executable).parent / "distlab"
    proc = subprocess.run([str(script), "demo"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    raft, proxy = sorted((tmp_path / "store" / "lin-kv").iterdir())
    assert results(raft)["valid"] is True and results(raft)["raft_safety"]["elections"] >= 2
    assert results(raft)["nemesis_ops"]["start-kill"] >= 1 and results(raft)["nemesis_ops"]["start-partition"] >= 1
    assert (raft / "raft.png").is_file() and (raft / "report.html").is_file()
    assert results(proxy)["valid"] is False and (proxy / "linearizability.html").is_file()
    assert "the proxy was caught: not linearizable" in " ".join(proc.stdout.split())
    for run in (raft, proxy):
        assert str((run / "report.html").relative_to(tmp_path)) in proc.stdout
    assert "distlab serve --store store" in proc.stdout


def test_log_stderr_copies_node_logs_live(tmp_path: Path) -> None:
    proc = distlab("test", "-w", "echo", "--bin", node_path("raises"), "--time-limit", "2", "--rate", "10",
                   "--seed", "1", "--log-stderr", cwd=tmp_path)
    assert "n1 | [distlab] started (incarnation 1)" in proc.stderr  # Maelstrom's default nodes n1..n5
    assert "ValueError: request 3 is unlucky" in proc.stderr


# --- the CLI's declarations: hash pinning and defaults ------------------------------

NODE_CODE_COMMANDS = {"test", "replay", "demo", "kv-lab", "shard-lab", "region-lab", "raft-test", "check", "tracks"}


def test_every_command_that_runs_node_code_pins_hashing() -> None:
    from distlab.cli import cli
    from distlab.cli.shared import pinned

    assert {name for name, command in cli.all_commands().items() if pinned(command)} == NODE_CODE_COMMANDS


def test_main_knows_the_pinned_commands_by_name_before_importing_them() -> None:
    """main() re-executes before importing click or any command, by name: the static set
    must be exactly the commands declared with @pins_hash."""
    import distlab.cli as cli_module
    from distlab.cli import cli
    from distlab.cli.shared import pinned

    assert cli_module.PINNED_COMMANDS == {name for name, c in cli.all_commands().items() if pinned(c)}


class _Exec(Exception):
    pass


@pytest.mark.parametrize("command", sorted(NODE_CODE_COMMANDS))
def test_main_re_executes_a_pinned_command_with_hash_seed_0(monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    import distlab.cli as cli_module

    seen: dict[str, Any] = {}

    def execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        seen.update(argv=argv, env=env)
        raise _Exec

    monkeypatch.setattr(cli_module.os, "execve", execve)
    monkeypatch.setattr(sys, "argv", ["distlab", command, "--list"])
    monkeypatch.setenv("PYTHONHASHSEED", "random")
    with pytest.raises(_Exec):
        cli_module.main()
    assert seen["env"]["PYTHONHASHSEED"] == "0"
    assert seen["argv"][1:] == ["-m", "distlab", command, "--list"]


def test_main_does_not_re_execute_analyze(monkeypatch: pytest.MonkeyPatch) -> None:
    import distlab.cli as cli_module

    def execve(*args: Any) -> None:
        raise AssertionError("analyze runs no node code; it must not re-execute")

    monkeypatch.setattr(cli_module.os, "execve", execve)
    monkeypatch.setattr(sys, "argv", ["distlab", "analyze", "--help"])
    monkeypatch.setenv("PYTHONHASHSEED", "random")
    with pytest.raises(SystemExit) as exc:
        cli_module.main()
    assert exc.value.code == 0


def test_test_options_default_to_the_dataclass_but_for_the_documented_differences() -> None:
    import dataclasses

    from distlab.cli import cli
    from distlab.cli.shared import CLI_DEFAULTS
    from distlab.options import TestOptions

    fields = {f.name: f for f in dataclasses.fields(TestOptions)}
    checked = 0
    for param in cli.commands["test"].params:
        f = fields.get(param.name or "")
        if f is None or param.name in CLI_DEFAULTS or param.param_type_name != "option":
            continue
        api = f.default if f.default is not dataclasses.MISSING else ",".join(f.default_factory())  # type: ignore[misc]
        assert param.default == api, param.name
        checked += 1
    assert checked >= 25
    assert CLI_DEFAULTS == {"workload": "lin-kv", "node_count": None, "seed": None, "nemesis_schedule": "stagger"}
    assert cli.commands["test"].params[0].default == "lin-kv"


def missing_workload_options(command: Any, parameters: dict[str, list[Any]]) -> list[str]:
    """The declared workload parameters that `command` has no option for."""
    declared = {spec.name for specs in parameters.values() for spec in specs}
    return sorted(declared - {param.name for param in command.params})


def test_every_workload_parameter_is_a_test_option() -> None:
    """What a workload declares in its Params is a `distlab test` option, and the check
    notices a parameter that is not one."""
    from distlab.cli import cli
    from distlab.workloads.registry import ParamSpec, workload_parameters

    command = cli.commands["test"]
    parameters = workload_parameters()
    assert {"topology", "key_count", "consistency_models", "max_txn_length", "max_writes_per_key"} <= {
        spec.name for specs in parameters.values() for spec in specs}
    assert missing_workload_options(command, parameters) == []
    with_new = {**parameters, "ring": [ParamSpec("ring_size", "int", 3, "Nodes in the ring.")]}
    assert missing_workload_options(command, with_new) == ["ring_size"]


def test_a_workload_parameter_becomes_an_option_of_its_declared_type() -> None:
    """One field in a workload's Params is the whole of a new option: its type, its help
    naming the workloads that read it, a list taken comma-separated."""
    import click
    from click.testing import CliRunner

    from distlab.cli.shared import workload_options
    from distlab.workloads.registry import ParamSpec

    declared = {
        "ring": [ParamSpec("max_txn_length", "int", 7, "Hops per message."),
                 ParamSpec("consistency_models", "tuple[str, ...]", ("a",), "Ring models.")],
        "ring2": [ParamSpec("max_txn_length", "int", 7, "Hops per message.")],
        "star": [ParamSpec("key_count", "int | None", 9, "Spokes.")],
    }
    seen: dict[str, Any] = {}
    command = click.command()(workload_options(declared)(lambda **kw: seen.update(kw)))
    options = {p.name: p for p in command.params}
    assert list(options) == ["max_txn_length", "consistency_models", "key_count"]
    assert options["max_txn_length"].type is click.INT
    assert options["max_txn_length"].help == "ring, ring2: Hops per message."
    assert options["key_count"].help == "star: Spokes (default 9)."  # the CLI leaves it unset
    result = CliRunner().invoke(command, ["--max-txn-length", "3", "--consistency-models", "x,,y"])
    assert result.exit_code == 0, result.output
    assert seen == {"max_txn_length": 3, "consistency_models": ["x", "y"], "key_count": None}
    assert CliRunner().invoke(command, ["--max-txn-length", "many"]).exit_code == 2
    with pytest.raises(TypeError, match="'ring_size'.*not a TestOptions field"):
        workload_options({"ring": [ParamSpec("ring_size", "int", 3, "Nodes.")]})


def test_python_dash_m_distlab_pins_hashing_too(tmp_path: Path) -> None:
    """`python -m distlab test` is the same command: a node that orders replies by
    string hashes gives one trace whatever PYTHONHASHSEED the caller had."""
    node = tmp_path / "hashy.py"
    node.write_text(
        "from distlab import Node\n"
        "node = Node()\n"
        "@node.on('echo')\n"
        "def echo(msg):\n"
        "    return {'type': 'echo_ok', 'echo': msg.body['echo'], 'h': hash('distlab') % 1000}\n"
        "if __name__ == '__main__':\n"
        "    node.run()\n")
    seen = set()
    for hash_seed in ("1", "2"):
        cwd = tmp_path / hash_seed
        cwd.mkdir()
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        proc = subprocess.run([sys.executable, "-m", "distlab", "test", "-w", "echo", "--bin", str(node),
                               "--node-count", "1", "--time-limit", "1", "--seed", "1"],
                              cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        replies = [orjson.loads(line) for line in (latest(cwd) / "messages.jsonl").read_bytes().splitlines()]
        seen.update(m["body"]["h"] for m in replies if m.get("body", {}).get("type") == "echo_ok")
    assert len(seen) == 1
