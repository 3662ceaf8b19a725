"""txn-rw-register: transactions of reads and writes of registers (Gossip Glomers 6).

`txn{txn: [["r", k, null], ["w", k, v], ...]}` -> `txn_ok{txn}`; written values
are unique per key. Checked against `--consistency-models`.
"""

from __future__ import annotations

from distlab.workloads.txn_list_append import TxnListAppend


class TxnRWRegister(TxnListAppend):
    name = "txn-rw-register"
    checker_workload = "rw-register"
    write_kind = "w"

