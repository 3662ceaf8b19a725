"""kv-lab's `--seed-offset` gives other schedules, not runs without the fault a scenario
checks for.

The persist and 3B recover scenarios check that a majority was killed and came back while
clients still ran (3B: from its snapshots), 3a_one_partition that the first partition
left a majority serving, 3b_snapshot_rpc that a node cut off long enough caught up by
InstallSnapshot: before the nemesis's `ensure` options (distlab/nemesis/schedule.py),
these offsets of the tuned seeds scheduled no such fault (or one too early or too late),
and failed distlab's own correct kvraft.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from distlab.systems.kvraft.lab import SCENARIOS, Lab, nemesis_events

NODE = str(Path(__file__).resolve().parent.parent / "distlab" / "systems" / "kvraft" / "node.py")

# (scenario, offset) pairs that failed kvraft before: "no kill of a majority", "nothing
# succeeded after the majority came back", "the first partition left no majority"
ONCE_FALSE = [
    ("3a_persist_concurrent", 2),
    ("3a_persist_one_client", 6),
    ("3a_persist_partition", 4),
    ("3a_persist_partition_unreliable_linearizable", 2),
    ("3b_snapshot_recover", 6),
    ("3b_snapshot_unreliable_recover_concurrent_partition", 4),
    ("3a_one_partition", 3),
    # "no node installed a snapshot sent to it": its two isolations were too short
    ("3b_snapshot_rpc", 19),
    # "no node restarted from a snapshot" when the majority went down before it had one
    ("3b_snapshot_unreliable_recover_concurrent_partition", 16),
    ("3b_snapshot_unreliable_recover_concurrent_partition_linearizable", 6),
]


def test_the_3b_recover_kill_is_the_first_and_comes_late(tmp_path: Path) -> None:
    """3B's majority goes down after the nodes have run undisturbed (so they have snapshots)."""
    lab = Lab(NODE, store=str(tmp_path / "store"), seed_offset=16)
    SCENARIOS["3b_snapshot_unreliable_recover_concurrent_partition"](lab)
    kills = nemesis_events(lab.runs[-1], "start-kill")
    assert len(kills[0]["value"]) >= 3 and 7.0e9 <= kills[0]["time"] <= 8.0e9


@pytest.mark.parametrize(("name", "offset"), ONCE_FALSE)
def test_kvraft_passes_offsets_that_once_scheduled_no_such_fault(name: str, offset: int,
                                                                  tmp_path: Path) -> None:
    lab = Lab(NODE, store=str(tmp_path / "store"), seed_offset=offset)
    SCENARIOS[name](lab)


def test_the_ensured_kill_is_of_a_majority_early_enough_and_restarted(tmp_path: Path) -> None:
    """What the scenario now gets on every seed: a majority down at least op_timeout + 1 s
    before the end, back at the next change, and no other kill while its clients wait."""
    lab = Lab(NODE, store=str(tmp_path / "store"), seed_offset=2)
    SCENARIOS["3a_persist_concurrent"](lab)
    result = lab.runs[-1]
    kills = nemesis_events(result, "start-kill")
    big = [k for k in kills if len(k["value"]) >= 3]
    assert big and big[0]["time"] <= (10.0 - 5.0 - 1.0) * 1e9
    back = [r for r in nemesis_events(result, "stop-kill") if r["time"] > big[0]["time"]]
    assert back and back[0]["time"] - big[0]["time"] <= 2.0 * 1e9 + 1
    later = [k for k in kills if big[0]["time"] < k["time"] < big[0]["time"] + 6.0 * 1e9]
    assert later == []


def test_an_ensured_fault_needs_its_kind_and_the_fixed_schedule() -> None:
    from distlab.options import RunError, TestOptions

    for kw, phrase in [({"nemesis": ["partition"], "nemesis_ensure": ["kill-majority"]}, "needs --nemesis kill"),
                       ({"nemesis": ["kill"], "nemesis_ensure": ["kill-majority"],
                         "nemesis_schedule": "stagger"}, "fixed"),
                       ({"nemesis": ["kill"], "nemesis_ensure": ["kill-all"]}, "choose from")]:
        opts = TestOptions(workload="lin-kv", bin=NODE, **kw)  # type: ignore[arg-type]
        with pytest.raises(RunError, match=phrase):
            opts.validate()
