"""`distlab report RUN_DIR`: rewrites a run's report files and prints the report's path;
anything that is not a readable run directory ends in one `error:` line and exit 2."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from distlab.examples import example_path
from distlab.options import TestOptions
from distlab.report.plots import PLOTS, STABLE
from distlab.runner import run_test


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("store")
    result = run_test(TestOptions(
        workload="broadcast", bin=str(example_path("broadcast")), node_count=3, time_limit=3.0, rate=20.0,
        nemesis=["partition"], nemesis_interval=1.0, seed=4, store=str(store),
    ))
    return result.run_dir


def distlab(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "distlab", *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_report_writes_every_file_and_prints_the_page(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "old-run"
    shutil.copytree(run_dir, copy)
    for name in ("messages.html", "report.html", *PLOTS, STABLE):
        (copy / name).unlink(missing_ok=True)
    proc = distlab("report", str(copy))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.strip().splitlines()[-1] == str((copy / "report.html").resolve())
    for name in ("messages.html", "report.html", *PLOTS, STABLE):
        assert (copy / name).is_file(), name
    page = (copy / "report.html").read_text()
    for plot in (*PLOTS, STABLE):
        assert f'src="{plot}"' in page
    assert '<iframe src="messages.html"' in page and 'href="node-logs/n0.log"' in page
    assert f"distlab replay {copy.resolve()}" in page and "broadcast" in page and "seed 4" in page
    assert "http://" not in page and "https://" not in page  # works from file://, offline
    again = distlab("report", str(copy))  # rewriting is fine
    assert again.returncode == 0 and again.stdout == proc.stdout


def test_a_run_without_a_trace_gets_plots_and_a_page(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "no-trace"
    shutil.copytree(run_dir, copy)
    (copy / "messages.jsonl").unlink()
    (copy / "messages.html").unlink(missing_ok=True)
    proc = distlab("report", str(copy))
    assert proc.returncode == 0, proc.stderr
    assert not (copy / "messages.html").exists()
    assert "wrote no messages.jsonl" in (copy / "report.html").read_text()


def _bad_dirs(root: Path, good: Path) -> dict[str, Path]:
    def copy(name: str) -> Path:
        target = root / name
        shutil.copytree(good, target)
        return target

    (root / "afile").write_text("x\n")
    (root / "empty").mkdir()
    corrupt_config = copy("corrupt-config")
    (corrupt_config / "config.json").write_text("{bad json")
    list_results = copy("list-results")
    (list_results / "results.json").write_text("[1, 2]")
    bad_history = copy("bad-history")
    lines = (bad_history / "history.jsonl").read_text().splitlines()
    (bad_history / "history.jsonl").write_text("\n".join([lines[0], '{"index": 1, "type": "inv', *lines[2:]]) + "\n")
    not_records = copy("not-records")
    (not_records / "history.jsonl").write_text('{"index": 0}\n')
    torn_trace = copy("torn-trace")
    (torn_trace / "messages.jsonl").write_text('{"t":0,"ev":"send","id":1,\n"src":"c1"}\n')
    no_history = copy("no-history")
    (no_history / "history.jsonl").unlink()
    return {p.name: p for p in root.iterdir()}


BAD = [
    ("missing", "does not exist"),
    ("afile", "is a file, not a run directory"),
    ("empty", "is not a run directory: no config.json, results.json, history.jsonl"),
    ("no-history", "is not a run directory: no history.jsonl"),
    ("corrupt-config", "config.json: not JSON"),
    ("list-results", "results.json: not a JSON object"),
    ("bad-history", "history.jsonl:2: not JSON"),
    ("not-records", "history.jsonl:1: not a history record (needs type and process)"),
    ("torn-trace", "messages.jsonl:1: not JSON"),
]


def test_bad_input_gets_one_line_and_exit_2(run_dir: Path, tmp_path: Path) -> None:
    dirs = _bad_dirs(tmp_path, run_dir)
    for name, message in BAD:
        proc = distlab("report", str(dirs.get(name, tmp_path / name)), cwd=tmp_path)
        lines = proc.stderr.splitlines()
        assert proc.returncode == 2, (name, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stdout + proc.stderr
        assert len(lines) == 1 and lines[0].startswith("error: "), (name, proc.stderr)
        assert message in lines[0], (name, lines[0])
        assert proc.stdout == ""


def test_usage_errors_are_one_line_too() -> None:
    proc = distlab("report")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Missing argument 'RUN_DIR'" in proc.stderr


def test_progress_shows_only_on_a_terminal_and_only_after_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    from distlab.cli import report as report_cli

    class Status:
        def __init__(self, text: str) -> None:
            self.texts = [text]
            self.running = False

        def start(self) -> None:
            self.running = True

        def update(self, text: str) -> None:
            self.texts.append(text)

        def stop(self) -> None:
            self.running = False

    class Console:
        is_terminal = True
        made: list[Status] = []

        def status(self, text: str) -> Status:
            self.made.append(Status(text))
            return self.made[-1]

    console = Console()
    monkeypatch.setattr(report_cli, "err", console)
    with report_cli._Progress() as quick:
        quick.step("reading history.jsonl")  # within the first second: nothing shown
    assert console.made == []
    with report_cli._Progress() as slow:
        slow.started -= 2
        slow.step("reading messages.jsonl")
        slow.step("plotting")
        assert console.made[0].running
    assert console.made[0].texts == ["distlab report: reading messages.jsonl", "distlab report: plotting"]
    assert not console.made[0].running
    console.is_terminal = False
    with report_cli._Progress() as piped:
        piped.started -= 2
        piped.step("plotting")
    assert len(console.made) == 1
