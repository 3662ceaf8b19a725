"""Linearizability checking: Wing-Gong-Lowe search with P-compositionality.

    from distlab.checkers.linearizable import check, get_model
    result = check(records, "cas-register", budget=10.0)
    result.valid        # True, False or "unknown"
    print(result.explain())
    write_html(result, "history.html")
"""

from .checker import Linearizable
from .explain import explain_text, write_html
from .model import (
    KV,
    MODELS,
    UNKNOWN,
    CasRegister,
    FifoQueue,
    KeyedCasRegister,
    Model,
    Register,
    SetModel,
    get_model,
)
from .search import Failure, LinResult, Operation, check, make_operations

__all__ = [
    "KV", "KeyedCasRegister", "Linearizable", "MODELS", "UNKNOWN", "CasRegister", "FifoQueue", "Model", "Register", "SetModel",
    "get_model", "Failure", "LinResult", "Operation", "check", "make_operations",
    "explain_text", "write_html",
]
