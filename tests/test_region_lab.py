"""`distlab region-lab`: TinyKV 3B and 3C on a cluster built from a learner's pieces.

Good pieces (a Raft seen only through RaftLike, and the Sharder track's own reference
split, heartbeat table and balance rule, plugged in unchanged) pass every scenario; a
bad piece of each kind fails with a sentence naming what it did; a piece without its
contract's shape ends the command with one line and exit status 2."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from distlab.cli.commands import cli
from distlab.systems.multiraft.pieces import PieceError, load_pieces
from distlab.systems.multiraft.suite import SCENARIOS, run_scenario

ROOT = Path(__file__).resolve().parents[1]
NODES = ROOT / "tests" / "nodes"
SHARDER = ROOT / "distlab" / "tracks" / "sharder"
SPLIT_OK = f"{SHARDER / '12-region-split' / 'reference.py'}:split_keys"
TABLE_OK = str(SHARDER / "14-heartbeats" / "reference.py")
BALANCE_OK = str(SHARDER / "13-balance" / "reference.py")


def lab(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, ["region-lab", *args])
    return r.exit_code, r.output


def test_good_pieces_pass_every_scenario() -> None:
    """The track's reference code for split, heartbeats and balance plugs straight in."""
    pieces = load_pieces(f"{NODES / 'region_raft.py'}:correct", SPLIT_OK, [TABLE_OK, BALANCE_OK])
    failed = {}
    for name in SCENARIOS:
        o = run_scenario(name, pieces, range(1, 2))
        if o.status != "pass":
            failed[name] = o.detail
    assert failed == {}


def test_the_3c_scenarios_are_not_vacuous() -> None:
    """Stale reports of both kinds were delivered and refused, replicas really moved."""
    pieces = load_pieces(None, None, [TABLE_OK, BALANCE_OK])
    hb = run_scenario("TestRegionHeartbeat3C", pieces, range(1, 2))
    assert hb.status == "pass", hb.detail
    counts = [int(w) for w in hb.detail.split() if w.isdigit()]
    assert counts[0] >= 1 and counts[1] >= 1 and counts[2] >= 1 and counts[4] >= 1, hb.detail
    bal = run_scenario("TestBalanceRegion3C", pieces, range(1, 2))
    assert bal.status == "pass", bal.detail
    assert bal.result is not None and bal.result.cluster.pd.scheduled >= 3
    c = bal.result.cluster
    assert c.balancer is not None and c.balancer.decisions == c.pd.scheduled
    counts = {s.id: s.region_count for s in c.pd.stores()}
    assert counts[6] == 0 and all(counts[s] > 0 for s in (1, 2, 3, 4, 5)), counts  # 6 is offline


def test_cli_default_pieces_pass() -> None:
    code, output = lab("-s", "TestOneSplit3B", "-s", "*3C")
    assert code == 0, output
    assert output.count("PASS") == 3 and "3 scenarios: 3 pass" in output


@pytest.mark.parametrize(("args", "phrase"), [
    (["--raft", f"{NODES / 'region_raft.py'}:truncate_on_heartbeat", "-s", "TestSplitUnreliableRecover3B"],
     "Raft safety: region 1001: p1003@s2 applied an entry of term 3 at index 148"),
    (["--split", f"{NODES / 'region_split_no_bump.py'}:split_keys", "-s", "TestOneSplit3B"],
     "expected version 2 (the old version plus the number of new regions)"),
    (["--split", f"{NODES / 'region_split_overlap.py'}:split_keys", "-s", "TestOneSplit3B"],
     "which overlaps its neighbour"),
    (["--pd", str(NODES / "region_pd_stale.py"), "-s", "TestRegionHeartbeat3C"],
     "your RegionTable took a stale heartbeat"),
    (["--pd", str(NODES / "region_pd_holder.py"), "-s", "TestBalanceRegion3C"],
     "which already holds a peer of it"),
    (["--follower-reads", "-s", "TestConfChangeUnreliable3B"],
     "the clients' history is not linearizable: key"),
])
def test_known_bad_pieces_fail_with_a_reason(args: list[str], phrase: str) -> None:
    code, output = lab(*args)
    assert code == 1, output
    assert phrase in output, output
    assert "replay the first failure" in output and "--first-seed 1" in output


def _module(tmp_path: Path, name: str, source: str) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return str(path)


BALANCE_HEAD = """
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Store:
        id: int
        up: bool
        region_size: int

    @dataclass(frozen=True)
    class RegionInfo:
        id: int
        size: int
        peers: tuple

"""


def test_a_balance_onto_a_down_store_or_with_a_small_gap_is_caught(tmp_path: Path) -> None:
    down = _module(tmp_path, "down_target", BALANCE_HEAD + """
    def balance(stores, regions, max_replicas=3):
        for src in sorted(stores, key=lambda s: (-s.region_size, s.id)):
            if not src.up:
                continue
            for r in sorted(regions, key=lambda r: r.id):
                if src.id not in r.peers or len(r.peers) < max_replicas:
                    continue
                free = [s for s in stores if s.id not in r.peers]  # up or not
                if free:
                    dst = min(free, key=lambda s: (s.region_size, s.id))
                    if src.region_size - dst.region_size > 2 * r.size:
                        return r.id, src.id, dst.id
        return None
    """)
    code, output = lab("--pd", down, "-s", "TestBalanceRegion3C")
    assert code == 1 and "store 5, which is down" in output, output
    gap = _module(tmp_path, "gap_once", BALANCE_HEAD + """
    def balance(stores, regions, max_replicas=3):
        up = sorted((s for s in stores if s.up), key=lambda s: (-s.region_size, s.id))
        for src in up:
            for r in sorted(regions, key=lambda r: r.id):
                if src.id not in r.peers or len(r.peers) < max_replicas:
                    continue
                free = [s for s in up if s.id not in r.peers]
                if free:
                    dst = min(free, key=lambda s: (s.region_size, s.id))
                    if src.region_size - dst.region_size > r.size:
                        return r.id, src.id, dst.id
        return None
    """)
    code, output = lab("--pd", gap, "-s", "TestBalanceRegion3C")
    assert code == 1 and "is not more than twice the region's size" in output, output


def test_a_table_refusing_current_reports_is_caught(tmp_path: Path) -> None:
    strict = _module(tmp_path, "equal_is_stale", """
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Region:
        id: int
        start: bytes
        end: bytes
        version: int = 1
        conf_ver: int = 1

    class RegionTable:
        def __init__(self):
            self.known = {}

        def heartbeat(self, region):
            old = self.known.get(region.id)
            if old is not None and (region.version <= old.version or region.conf_ver <= old.conf_ver):
                return False
            self.known[region.id] = region
            return True

        def regions(self):
            return sorted(self.known.values(), key=lambda r: r.start)
    """)
    code, output = lab("--pd", strict, "-s", "TestTransferLeader3B")
    assert code == 1 and "refused region 1's heartbeat at version 1, conf_ver 1 though nothing newer" in output


def test_a_table_checking_only_its_own_id_is_caught(tmp_path: Path) -> None:
    """A split's child reports before its parent; the parent's report from before the split
    then overlaps the child, which is newer: taken by a table that compares a report only
    with the region of its own id (dropped when the child was taken)."""
    same_id = _module(tmp_path, "same_id_only", """
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Region:
        id: int
        start: bytes
        end: bytes
        version: int = 1
        conf_ver: int = 1

    def overlaps(a, b):
        return (not a.end or b.start < a.end) and (not b.end or a.start < b.end)

    class RegionTable:
        def __init__(self):
            self.known = {}

        def heartbeat(self, region):
            old = self.known.get(region.id)
            if old is not None and (region.version < old.version or region.conf_ver < old.conf_ver):
                return False
            for other in [r for r in self.known.values() if r.id != region.id and overlaps(r, region)]:
                del self.known[other.id]
            self.known[region.id] = region
            return True

        def regions(self):
            return sorted(self.known.values(), key=lambda r: r.start)
    """)
    code, output = lab("--pd", same_id, "-s", "TestRegionHeartbeat3C")
    assert code == 1
    assert "your RegionTable took a stale heartbeat: region 1 [b'', b'') at version 1, conf_ver 1 overlaps " \
           "region 1001" in output, output


def test_a_crash_in_the_learners_raft_names_their_line() -> None:
    code, output = lab("--raft", f"{NODES / 'region_raft.py'}:raises_on_snapshot", "-s", "TestBasicConfChange3B")
    assert code == 1
    assert "raised KeyError: 'snapshot handling not written yet' (at " in output
    assert "region_raft.py:" in output and "Traceback" not in output


@pytest.mark.parametrize(("args", "phrase"), [
    (["--raft", f"{NODES / 'region_raft.py'}:no_transfer"], "the node lacks transfer_leader"),
    (["--raft", f"{NODES / 'region_raft.py'}"], "is not MODULE:FACTORY"),
    (["--raft", "no_such_module_here:make"], "cannot import it: ModuleNotFoundError"),
    (["--split", f"{NODES / 'region_pd_holder.py'}:balance"], "defines no split"),
    (["--pd", f"{NODES / 'region_raft.py'}"], "defines neither RegionTable nor balance"),
    (["--pd", str(NODES / "region_pd_stale.py"), "--pd", str(NODES / "region_pd_stale.py")],
     "RegionTable is given twice"),
    (["--pd", str(NODES / "missing.py")], "no such file"),
    (["-s", "TestNoSuch*"], "no scenario matches"),
])
def test_pieces_without_their_contract_stop_with_one_line(args: list[str], phrase: str) -> None:
    code, output = lab(*args)
    assert code == 2, output
    assert phrase in output and "Traceback" not in output
    assert len([ln for ln in output.splitlines() if ln.strip()]) == 1, output


def test_load_pieces_reports_the_shape_of_a_piece() -> None:
    with pytest.raises(PieceError, match="split_keys"):
        load_pieces(split=f"{NODES / 'region_pd_stale.py'}:split_keys")
    pieces = load_pieces(None, SPLIT_OK, [TABLE_OK])
    assert "split: " + SPLIT_OK in pieces.describe() and "balance: distlab's" in pieces.describe()


def test_list_names_3b_and_3c_scenarios() -> None:
    code, output = lab("--list")
    assert code == 0
    names = output.split()
    assert names[0] == "TestTransferLeader3B" and names[-2:] == ["TestRegionHeartbeat3C", "TestBalanceRegion3C"]
