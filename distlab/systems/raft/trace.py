"""The Raft trace format and its checker now live in distlab/checkers/raft_trace.py;
this name stays for nodes and labs that import the writer from here."""

from distlab.checkers.raft_trace import (
    PREFIX,
    RaftTrace,
    Tracer,
    TraceReport,
    check_logs,
    command_id,
    term_runs,
)

__all__ = ["PREFIX", "RaftTrace", "TraceReport", "Tracer", "check_logs", "command_id", "term_runs"]
