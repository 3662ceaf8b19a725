"""Review of the fail points, region-lab and the 3A tester: verdicts that could lie, and
wrong input a learner types.

Each test pins one thing the review found or checked: every fail point named in
distlab.fail.POINTS is evaluated somewhere (and no other name is), a configured point the
nodes never reach says so instead of passing quietly, region-lab holds a learner's
split_keys to the Sharder track's rule (a checker that never cuts passed 16 of 18
scenarios), a bare assert in a scenario names its line, and the new commands answer wrong
input with one `error:` line (exit 2) or a clean SKIP, never a traceback. Seeds are fixed.
"""

from __future__ import annotations

import linecache
import random
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from distlab import fail
from distlab.cli.commands import cli
from distlab.options import TestOptions
from distlab.runner import run_test
from distlab.systems.kvraft import NODE_PATH as KVRAFT
from distlab.systems.multiraft import suite
from distlab.systems.multiraft.pieces import (
    ContractViolation,
    load_module,
    load_pieces,
    track_split_keys,
)
from distlab.systems.multiraft.region import Region
from distlab.systems.multiraft.suite import run_scenario

ROOT = Path(__file__).resolve().parents[1]
DISTLAB = ROOT / "distlab"
SPLIT_REFERENCE = DISTLAB / "tracks" / "sharder" / "12-region-split" / "reference.py"


def invoke(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, list(args))
    text = r.output + (f"\n{type(r.exception).__name__}: {r.exception}"
                       if r.exception and not isinstance(r.exception, SystemExit) else "")
    return r.exit_code, text


def assert_one_error_line(code: int, output: str, phrase: str) -> None:
    assert code == 2, output
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), output
    assert phrase in lines[0], output
    assert "Traceback" not in output


# ----- fail points ------------------------------------------------------------------------

def test_every_listed_fail_point_is_evaluated_and_no_other() -> None:
    """A misspelt name in code or in POINTS is a point --fail accepts and nothing reaches."""
    evaluated = set()
    for path in DISTLAB.rglob("*.py"):
        if path.name == "fail.py" or "kvs" in path.parts:  # kvs has its own FAIL_POINTS
            continue
        evaluated.update(re.findall(r"fail_(?:point|return)\(\s*[\"']([^\"']+)[\"']", path.read_text()))
    assert evaluated == set(fail.POINTS)


def test_reached_counts_evaluations_of_a_configured_point() -> None:
    with fail.FailScenario(environ={}):
        assert fail.reached("raft::before_apply") == 0
        fail.cfg("raft::before_apply", "off")
        for _ in range(3):
            fail.fail_point("raft::before_apply")
        fail.fail_point("raft::after_append")  # not configured: not counted anywhere
        assert fail.reached("raft::before_apply") == 3
        assert fail.reached("raft::after_append") == 0


def test_a_fail_point_the_nodes_never_reach_is_a_warning(tmp_path: Path) -> None:
    """kvraft has no Percolator client: percolator::prewrite=panic injects nothing, and the
    run used to say only '0 panic crashes' beside a VALID verdict."""
    result = run_test(TestOptions(
        workload="lin-kv", bin=str(KVRAFT), node_count=3, time_limit=4.0, rate=20.0, seed=1,
        store=str(tmp_path / "store"),
        fail=["percolator::prewrite=panic", "n1/raft::before_apply=print"]))
    assert result.results["fail_points"]["unreached"] == ["percolator::prewrite"]
    warned = [w for w in result.results["warnings"] if "never reached" in w]
    assert len(warned) == 1 and "percolator::prewrite" in warned[0], result.results["warnings"]


@pytest.mark.parametrize(("spec", "phrase"), [
    ("=", "expected [NODE/]NAME=ACTIONS"),
    ("", "names no fail point"),
    (" ; ", "names no fail point"),
    ("n9/raft::before_apply=panic", "'n9' is not a node of this run"),
    ("raft::before_apply=sleep(10)", "would stop every node at once"),
    ("raft::before_aply=panic", "unknown fail point"),
    ("raft::before_apply=panic(", "parentheses do not match"),
    ("raft::before_apply=return", "has no early return"),
])
def test_bad_fail_specs_are_one_error_line(tmp_path: Path, spec: str, phrase: str) -> None:
    code, output = invoke("test", "-w", "lin-kv", "--bin", str(KVRAFT), "--node-count", "3",
                          "--time-limit", "1", "--store", str(tmp_path), "--fail", spec)
    assert_one_error_line(code, output, phrase)


# ----- region-lab: the split piece's contract -----------------------------------------------

def _reference_split_keys() -> Any:
    return load_module(str(SPLIT_REFERENCE), "--split").split_keys


def test_the_contract_rule_is_the_tracks_reference() -> None:
    """Brute force: region-lab must never refuse the track's own reference answer."""
    reference = _reference_split_keys()
    rng = random.Random(5)
    for _ in range(2000):
        entries = [(b"k%03d" % i, rng.randint(1, 40)) for i in sorted(rng.sample(range(200), rng.randint(0, 12)))]
        max_size = rng.randint(1, 200)
        split_size = rng.randint(1, max_size)
        assert track_split_keys(entries, max_size, split_size) == reference(entries, max_size, split_size)


def _split_module(tmp_path: Path, body: str) -> str:
    src = SPLIT_REFERENCE.read_text()
    start = src.index("def split_keys(")
    end = src.index("\ndef ", start + 1)
    path = tmp_path / "mysplit.py"
    path.write_text(src[:start] + body + src[end:])
    return f"{path}:split_keys"


NEVER_SPLITS = "def split_keys(entries, max_size, split_size):\n    return []\n\n"
ONE_CUT_ONLY = '''def split_keys(entries, max_size, split_size):
    if sum(s for _, s in entries) <= max_size:
        return []
    held = 0
    for key, size in entries:
        if held >= split_size:
            return [key]
        held += size
    return []

'''


@pytest.mark.parametrize(("body", "got", "want"), [
    (NEVER_SPLITS, "[]", "[b'k04', b'k08']"),
    (ONE_CUT_ONLY, "[b'k04']", "[b'k04', b'k08']"),
], ids=["never-splits", "one-cut-only"])
def test_a_split_checker_off_the_rule_is_a_contract_violation(tmp_path: Path, body: str, got: str,
                                                              want: str) -> None:
    pieces = load_pieces(split=_split_module(tmp_path, body))
    splitter = pieces.splitter()
    region = Region(1, b"", b"")
    sizes = [(b"k%02d" % i, 10) for i in range(12)]  # 120 bytes; split_size 40
    with pytest.raises(ContractViolation, match=re.escape(f"returned {got}; the rule gives {want}")):
        splitter.keys(region, sizes, 60)
    assert splitter.keys(region, sizes[:5], 60) == []  # under max_size: both agree, nothing to cut


def test_a_split_checker_that_never_cuts_fails_the_split_scenarios(tmp_path: Path) -> None:
    """TestSplitRecover3B (and 15 others) passed with a split_keys that always returns []."""
    pieces = load_pieces(split=_split_module(tmp_path, NEVER_SPLITS))
    o = run_scenario("TestSplitRecover3B", pieces, range(1, 2))
    assert o.status == "fail" and "the rule gives" in o.detail, o.detail


def test_a_bare_assert_in_a_scenario_names_its_line() -> None:
    """'AssertionError' alone told the learner nothing; the anchor's line says what failed."""
    filename = str(DISTLAB / "systems" / "multiraft" / "_review_fake_lab.py")
    source = "def scenario():\n    assert left_id != right_id\n"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"left_id": 3, "right_id": 3}
    exec(compile(source, filename, "exec"), namespace)
    try:
        namespace["scenario"]()
    except AssertionError as exc:
        text = suite.describe(exc)
    finally:
        linecache.cache.pop(filename, None)
    assert text == "the scenario's check failed: assert left_id != right_id (_review_fake_lab.py:2)"


# ----- region-lab and raft-test: wrong input ---------------------------------------------

def test_region_lab_wrong_input_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "syntax.py").write_text("def make(:\n")
    (tmp_path / "nofactory.py").write_text("x = 1\n")
    cases = [
        (["--raft", str(tmp_path / "nosuch.py") + ":make"], "no such file"),
        (["--raft", str(tmp_path / "nofactory.py")], "is not MODULE:FACTORY"),
        (["--raft", str(tmp_path / "nofactory.py") + ":make"], "defines no make"),
        (["--raft", str(tmp_path / "nofactory.py") + ":x"], "defines no x"),
        (["--pd", str(tmp_path / "syntax.py")], "SyntaxError"),
        (["--split", str(tmp_path / "nofactory.py") + ":"], "defines no split_keys"),
        (["-s", "NoSuchScenario"], "no scenario matches 'NoSuchScenario'"),
        (["--seeds", "0"], "0 is not in the range"),
        (["--seeds", "-1"], "-1 is not in the range"),
    ]
    for args, phrase in cases:
        code, output = invoke("region-lab", *args)
        assert_one_error_line(code, output, phrase)


def test_raft_test_3a_on_a_raft_without_transfer_leader_skips_cleanly(tmp_path: Path) -> None:
    (tmp_path / "notransfer.py").write_text('''
from distlab.systems.raft.tester import core_factory

_make = core_factory()


class NoTransfer:
    """distlab's core seen without transfer_leader."""

    def __init__(self, core):
        self._core = core

    def __getattr__(self, name):
        if name == "transfer_leader":
            raise AttributeError(name)
        return getattr(self._core, name)


def make(node_id, peers, rng, persisted):
    return NoTransfer(_make(node_id, peers, rng, persisted))
''')
    code, output = invoke("raft-test", f"{tmp_path / 'notransfer.py'}:make", "-s", "3a_leader_transfer_*",
                          "-s", "3a_add_node")
    assert "Traceback" not in output and "Error" not in output, output
    skips = [ln for ln in output.splitlines() if ln.startswith("SKIP")]
    assert len(skips) == 11 and all("needs transfer_leader()" in ln for ln in skips), output
    assert any(ln.startswith("PASS 3a_add_node") for ln in output.splitlines()), output
    assert code == 0, output


# ----- kv-lab: a scripted scenario that cannot see its snapshot ------------------------------

# distlab's kvraft (sessions kept in its snapshots) writing no `raft {...}` trace lines, as a
# learner's kvraft on its own Raft may: the resends are answered once, but whether a snapshot
# was installed or restored is unknown, so the scenario did not show what it is for.
TRACELESS_KVRAFT = '''
from pathlib import Path
import distlab.systems.kvraft
from distlab.checkers.raft_trace import Tracer

Tracer._write = lambda self, event: None
NODE = Path(distlab.systems.kvraft.__file__).with_name("node.py")
exec(compile(NODE.read_text(), str(NODE), "exec"))
'''


@pytest.mark.parametrize("name", ["3b_snapshot_unreliable_lagging", "3b_snapshot_recover_resend"])
def test_a_scripted_snapshot_scenario_without_trace_lines_is_a_skip(tmp_path: Path, name: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from distlab.checkers.raft_trace import Tracer
    from distlab.systems.kvraft.lab import SCENARIOS, Lab, LabSkip

    # the node silences Tracer in this (simulator's) process: put it back for later tests
    monkeypatch.setattr(Tracer, "_write", Tracer._write)

    node = tmp_path / "traceless_kvraft.py"
    node.write_text(TRACELESS_KVRAFT)
    lab = Lab(str(node), store=str(tmp_path / "store"))
    with pytest.raises(LabSkip, match="raft trace lines .* wrote none .*answered once"):
        SCENARIOS[name](lab)
