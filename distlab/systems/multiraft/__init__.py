"""multiraft: TiKV's Multi-Raft layout as pure state machines.

`region.py` holds regions (key ranges with an epoch and peers; split, add and remove peer,
the split checker, key lookup); `pd.py` the placement driver (region heartbeats refused when
stale by epoch, store heartbeats, the balance-region scheduler of TinyKV project 3C and its
move-peer operators); `cluster.py` runs regions as real Raft groups (distlab's RaftCore,
with its membership changes and leader transfer) on simulated stores, moved by the driver.
`pieces.py` is the seam for a learner's own Raft, region split and driver functions (the
Sharder track's contracts); `lab.py` and `lab3c.py` hold TinyKV 3B's and 3C's scenarios
and `suite.py` runs them for `distlab region-lab`.
"""

from .pd import (
           MovePeer,
           PlacementDriver,
           RegionInfo,
           StoreInfo,
           StoreState,
           Verdict,
           balance_region,
)
from .region import Epoch, Peer, Region, RegionError, RegionMap, split_check

__all__ = ["Epoch", "MovePeer", "Peer", "PlacementDriver", "Region", "RegionError", "RegionInfo",
           "RegionMap", "StoreInfo", "StoreState", "Verdict", "balance_region", "split_check"]
