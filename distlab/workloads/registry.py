"""The workloads, by name: adding one is a module in this package and a line here."""

from __future__ import annotations

import dataclasses
from typing import Any

from distlab.workloads.backend import WORKLOADS as BACKEND_WORKLOADS
from distlab.workloads.base import Workload
from distlab.workloads.broadcast import Broadcast
from distlab.workloads.causal_broadcast import CausalBroadcast
from distlab.workloads.echo import Echo
from distlab.workloads.failure_detector import FailureDetector
from distlab.workloads.g_counter import GCounter
from distlab.workloads.g_set import GSet
from distlab.workloads.hlc import HLC
from distlab.workloads.kafka import Kafka
from distlab.workloads.lamport import Lamport
from distlab.workloads.leader import Bully, Leader, StickyLeader
from distlab.workloads.lease import Lease
from distlab.workloads.lin_kv import LinKV
from distlab.workloads.lww_register import LWWRegister
from distlab.workloads.or_set import ORSet, TwoPhaseSet
from distlab.workloads.pn_counter import PNCounter
from distlab.workloads.txn_list_append import TxnListAppend
from distlab.workloads.txn_rw_register import TxnRWRegister
from distlab.workloads.unique_ids import DenseIds, UniqueIds
from distlab.workloads.validation import EchoValidation, SchemaValidation
from distlab.workloads.vector_clock import VectorClock, VectorClockCompare

WORKLOADS: dict[str, type[Workload]] = {
    "2p-set": TwoPhaseSet,
    "broadcast": Broadcast,
    "dense-ids": DenseIds,
    "causal-broadcast": CausalBroadcast,
    "bully": Bully,
    "echo": Echo,
    "echo-validation": EchoValidation,
    "failure-detector": FailureDetector,
    "g-counter": GCounter,
    "g-set": GSet,
    "hlc": HLC,
    "kafka": Kafka,
    "lamport": Lamport,
    "leader": Leader,
    "lease": Lease,
    "lin-kv": LinKV,
    "lww-register": LWWRegister,
    "or-set": ORSet,
    "pn-counter": PNCounter,
    "schema-validation": SchemaValidation,
    "sticky-leader": StickyLeader,
    "txn-list-append": TxnListAppend,
    "txn-rw-register": TxnRWRegister,
    "unique-ids": UniqueIds,
    "vector-clock": VectorClock,
    "vector-clock-compare": VectorClockCompare,
}
WORKLOADS.update({cls.name: cls for cls in BACKEND_WORKLOADS})  # the Networker track's, one per situation


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """One workload option as the command line shows it."""

    name: str  # TestOptions' field and the option's name (key_count -> --key-count)
    type: Any  # the field's annotation, as written ("int", "tuple[str, ...]")
    default: Any
    help: str


def workload_parameters() -> dict[str, list[ParamSpec]]:
    """Each workload's own options (name, type, default, help), for the command line:
    the options a workload reads are the ones it declares. Parameters taken from the
    run itself (node count, clients) are not listed."""
    return {
        name: [ParamSpec(f.name, f.type, f.default, f.metadata.get("help", ""))
               for f in dataclasses.fields(cls.Params) if f.metadata.get("option", True)]
        for name, cls in WORKLOADS.items()
    }
